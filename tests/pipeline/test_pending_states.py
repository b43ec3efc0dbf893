"""Every pending state has an owner: a write that must be followed by an S3 put or an SQS
send records the intent (a deadline) with it, and when the call after it fails or never
happens, the reaper ends the state (docs/consistency.md)."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from chalicelib.blobs import objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.db import usage as usage_db
from chalicelib.pipeline.recovery import reap
from tests.multistore import active_image, configure_stores, request_copy, run_worker, shown
from tests.support import call, create_image, deliver, drain, override_settings

LATER = time.time() + get_settings().reap_after_seconds + 3600
DATA = b"staged bytes" * 100


def _stage(client, image_id: str):
    return client.http.put(f"/v2/images/{image_id}/stage", body=DATA, headers={
        "X-Project-Id": "admin", "X-Roles": "admin", "Content-Type": "application/octet-stream"})


def _refuse(*_args, **_kwargs):
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "S3 is down"}},
                      "PutObject")


def _lose(*_args, **_kwargs):
    raise ConnectionError("SQS unreachable")


def _uploading_counter(project: str = "admin") -> int:
    return usage_db.read(project).counters.get("image_count_uploading", 0)


def test_failed_staging_put_returns_the_image_to_queued_and_can_be_retried(
        server_client, server_aws, monkeypatch):
    image = create_image(server_client)
    monkeypatch.setattr(objects, "put", _refuse)
    assert _stage(server_client, image["id"]).status_code == 503
    failed = image_db.get(image["id"])
    assert failed.status == "queued" and "Staging failed" in failed.import_error
    assert _uploading_counter() == 0
    monkeypatch.undo()
    assert _stage(server_client, image["id"]).status_code == 204
    assert image_db.get(image["id"]).status == "uploading"


def test_staging_that_died_before_its_put_is_reaped(server_client, server_aws, monkeypatch):
    image = create_image(server_client)

    def die(*_args, **_kwargs):
        raise SystemExit("the API process died before the put")

    monkeypatch.setattr(objects, "put", die)
    with pytest.raises(SystemExit):
        _stage(server_client, image["id"])
    monkeypatch.undo()
    assert image_db.get(image["id"]).status == "uploading"
    assert image["id"] in reap(LATER).failed
    reaped = image_db.get(image["id"])
    assert reaped.status == "queued" and "no data arrived" in reaped.import_error
    assert _uploading_counter() == 0


def test_staged_data_awaits_glance_direct_until_it_expires(server_client, server_aws):
    image = create_image(server_client)
    assert _stage(server_client, image["id"]).status_code == 204
    result = reap(LATER)
    assert image["id"] not in result.failed + result.requeued
    assert image_db.get(image["id"]).upload.awaiting_import
    assert reap(LATER + get_settings().staging_keep_seconds).failed == (image["id"],)
    expired = image_db.get(image["id"])
    assert expired.status == "queued" and "Staged data expired" in expired.import_error
    assert _uploading_counter() == 0


def test_lost_glance_direct_request_is_sent_again_by_the_reaper(server_client, server_aws,
                                                                monkeypatch):
    image = create_image(server_client)
    assert _stage(server_client, image["id"]).status_code == 204
    drain(server_aws.queue_url)  # the staged object's own event: ignored while awaiting
    monkeypatch.setattr("chalicelib.services.image_data.request_import", _lose)
    status, _, _ = call(server_client, "POST", f"/v2/images/{image['id']}/import",
                        {"method": {"name": "glance-direct"}})
    assert status == 202
    monkeypatch.undo()
    assert drain(server_aws.queue_url, wait=0) == []
    asked_at = image_db.get(image["id"]).upload.expires_at
    time.sleep(1)
    assert reap(LATER).requeued == (image["id"],)
    # The deadline moved with the request: the next pass waits a grace period again.
    assert image_db.get(image["id"]).upload.expires_at > asked_at
    deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image["id"]).status == "active"
    [task] = task_db.for_image(image["id"])
    assert task.status == "success"


def test_lost_copy_request_is_sent_again_and_the_copy_finishes(server_client, server_aws,
                                                               monkeypatch):
    configure_stores(monkeypatch)
    image = active_image(server_client, DATA)
    drain(server_aws.queue_url, wait=0)
    monkeypatch.setattr("chalicelib.services.stores.request_copy", _lose)
    assert request_copy(server_client, image["id"], stores=["cold"])[0] == 202
    monkeypatch.setattr("chalicelib.services.stores.request_copy",
                        __import__("chalicelib.pipeline.requests",
                                   fromlist=["request_copy"]).request_copy)
    assert shown(server_client, image["id"])["os_glance_importing_to_stores"] == "cold"
    assert reap(LATER).requeued == (image["id"],)
    run_worker(server_client, server_aws)
    done = shown(server_client, image["id"])
    assert done["stores"] == "default,cold" and done["os_glance_importing_to_stores"] == ""
    copy_task = [t for t in task_db.for_image(image["id"])
                 if t.input["import_req"]["method"]["name"] == "copy-image"]
    assert [t.status for t in copy_task] == ["success"]


def test_web_download_never_run_is_failed_with_a_reason(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS="127.0.0.1/32")
    image = create_image(server_client)
    monkeypatch.setattr("chalicelib.services.image_data.request_web_download", _lose)
    status, _, _ = call(server_client, "POST", f"/v2/images/{image['id']}/import",
                        {"method": {"name": "web-download", "uri": "http://127.0.0.1/d.raw"}})
    assert status == 202
    assert image["id"] in reap(LATER).failed
    failed = image_db.get(image["id"])
    assert failed.status == "queued" and "no data arrived" in failed.import_error
    [task] = task_db.for_image(image["id"])
    assert task.status == "failure"
    assert _uploading_counter() == 0
