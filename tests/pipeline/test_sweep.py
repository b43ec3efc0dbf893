"""The orphan sweep against moto's S3 server: what no record owns goes after the grace period,
in every store, a bounded page per run; what in-flight uploads, imports and copies own stays."""
from __future__ import annotations

import time
import uuid
from dataclasses import replace

import requests

from chalicelib import aws, topology
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.image import Location
from chalicelib.pipeline.sweep import CURSOR_KEY, sweep
from glint_local.pump import scheduled_event
from tests.multistore import COLD, active_image, configure_stores, keys_in, request_copy, \
    run_worker
from tests.support import call, create_image, keys

LATER = time.time() + topology.ORPHAN_GRACE_SECONDS + 3600


def _put(key: str, bucket: str | None = None) -> str:
    aws.s3().put_object(Bucket=bucket or get_settings().bucket, Key=key, Body=b"x")
    return key


def _stray_id() -> str:
    return str(uuid.uuid4())


def test_the_sweep_removes_what_no_record_owns_in_every_store(server_client, server_aws,
                                                              monkeypatch):
    configure_stores(monkeypatch)
    owned = active_image(server_client, b"owned data")
    assert request_copy(server_client, owned["id"], stores=["cold"])[0] == 202
    run_worker(server_client, server_aws)
    # A pending upload (its staged object), and an import of it mid-way: the copy into
    # images/ and a converted variant exist, the locations are not recorded yet.
    importing = create_image(server_client)
    grant = call(server_client, "POST", f"/v2/images/{importing['id']}/uploads", {"size": 3})[1]
    requests.put(grant["url"], data=b"abc", timeout=30).raise_for_status()
    in_flight = {_put(f"images/{importing['id']}/{grant['upload_id']}"),
                 _put(f"images/{importing['id']}/{grant['upload_id']}-qcow2")}
    # A copy mid-way: its pending location is recorded before the object is written.
    copying = Location(id="c0ffee", store="cold", key=f"images/{owned['id']}/c0ffee",
                       status="pending")
    image_db.update(owned["id"], lambda i: replace(i, locations=(*i.locations, copying)))
    _put(copying.key, COLD)
    stray = f"images/{owned['id']}/stray"
    orphans = {
        "default:" + _put(f"images/{_stray_id()}/gone"),
        "default:" + _put(f"staging/{_stray_id()}/gone"),
        "default:" + _put(f"staging/{importing['id']}/superseded"),
        "cold:" + _put(stray, COLD),
    }
    owned_keys = set(keys(f"images/{owned['id']}/")) | set(keys_in(COLD, owned["id"]))

    assert sweep(time.time()).objects == ()  # nothing is past the grace period yet
    swept = sweep(LATER)
    assert set(swept.objects) == orphans
    assert set(keys(f"images/{owned['id']}/")) | set(keys_in(COLD, owned["id"])) == \
        owned_keys - {stray}
    assert in_flight <= set(keys(f"images/{importing['id']}/"))
    assert keys(f"staging/{importing['id']}/") == [image_db.get(importing["id"]).upload.key]
    assert call(server_client, "GET", f"/v2/images/{owned['id']}")[1]["status"] == "active"


def test_each_run_examines_a_bounded_page_and_resumes_where_it_stopped(server_client,
                                                                       server_aws):
    orphans = sorted(_put(f"images/{_stray_id()}/gone") for _ in range(5))
    first = sweep(LATER, limit=2)
    assert first.examined == 2 and first.objects == tuple(f"default:{k}" for k in orphans[:2])
    second = sweep(LATER, limit=2)  # a new run reads the cursor the first one left
    assert second.objects == tuple(f"default:{k}" for k in orphans[2:4])
    assert keys("images/") == orphans[4:]
    sweep(LATER, limit=2)
    assert keys("images/") == []
    assert CURSOR_KEY in keys("sweep/")


def test_orphan_multipart_uploads_are_aborted_and_pending_ones_kept(server_client, server_aws):
    bucket = get_settings().bucket
    stray = f"staging/{_stray_id()}/parts"
    aws.s3().create_multipart_upload(Bucket=bucket, Key=stray)
    image = create_image(server_client)
    grant = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                 {"size": 6 * 1024 * 1024, "multipart": True})[1]
    assert sweep(LATER).multipart_uploads == (f"default:{stray}",)
    open_keys = [u["Key"] for u in aws.s3().list_multipart_uploads(Bucket=bucket)
                 .get("Uploads", [])]
    assert open_keys == [image_db.get(image["id"]).upload.key]
    assert grant["type"] == "multipart"


def test_the_sweep_runs_as_a_scheduled_function(server_client, server_aws, monkeypatch):
    orphan = _put(f"images/{_stray_id()}/gone")
    monkeypatch.setattr(topology, "ORPHAN_GRACE_SECONDS", 0)
    time.sleep(0.01)
    server_client.lambda_.invoke("orphan_sweep",
                                 scheduled_event("arn:aws:events:us-east-1:1:rule/o", "us-east-1"))
    assert orphan not in keys("images/")
