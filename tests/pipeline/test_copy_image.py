"""copy-image between buckets on the moto server: the API lists the stores as importing and
queues a request; the worker copies server-side, store by store, as the queue delivers it."""
from __future__ import annotations

import json
import os

import pytest
import requests

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.pipeline import copies
from chalicelib.pipeline.events import parse_message
from tests.multistore import (COLD, COLD2, MISSING, active_image, configure_stores, keys_in,
                              request_copy, run_worker, shown)
from tests.support import call, drain, override_settings

DATA = os.urandom(200_000)


@pytest.fixture()
def image(server_client, server_aws, monkeypatch):
    configure_stores(monkeypatch, broken=True)
    return active_image(server_client, DATA)


def _statuses(image_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for loc in image_db.get(image_id).locations:
        found.setdefault(loc.store, []).append(loc.status)
    return found


def test_copy_to_one_store_is_a_server_side_copy(server_client, server_aws, image):
    status, _ = request_copy(server_client, image["id"], stores=["cold"])
    assert status == 202
    pending = shown(server_client, image["id"])
    assert pending["os_glance_importing_to_stores"] == "cold"
    assert pending["os_glance_failed_import"] == ""
    assert pending["stores"] == "default"
    run_worker(server_client, server_aws)
    done = shown(server_client, image["id"])
    assert done["status"] == "active"
    assert done["stores"] == "default,cold"
    assert done["os_glance_importing_to_stores"] == "" and done["os_glance_failed_import"] == ""
    assert _statuses(image["id"]) == {"default": ["active"], "cold": ["active"]}
    [key] = keys_in(COLD, image["id"])
    assert aws.s3().get_object(Bucket=COLD, Key=key)["Body"].read() == DATA
    # The copy keeps the image's digests; a download that prefers it reads the cold bucket.
    response = server_client.http.get(f"/v2/images/{image['id']}/file?prefer=cold")
    assert response.status_code == 302 and f"/{COLD}/" in response.headers["Location"]
    assert requests.get(response.headers["Location"], timeout=30).content == DATA


def test_all_stores_copies_where_the_image_is_missing(server_client, server_aws, monkeypatch):
    configure_stores(monkeypatch)  # no broken store: all_stores must all succeed
    image = active_image(server_client, DATA)
    assert request_copy(server_client, image["id"], all_stores=True)[0] == 202
    assert shown(server_client, image["id"])["os_glance_importing_to_stores"] == "cold,cold2"
    run_worker(server_client, server_aws)
    assert shown(server_client, image["id"])["stores"] == "default,cold,cold2"
    assert len(keys_in(COLD2, image["id"])) == 1
    # Everywhere already: accepted, nothing queued (Glance returns at once).
    assert request_copy(server_client, image["id"], all_stores=True)[0] == 202
    assert drain(server_aws.queue_url, wait=0) == []


def test_failing_store_rolls_back_when_all_must_succeed(server_client, server_aws, image):
    status, _ = request_copy(server_client, image["id"], stores=["cold", "broken", "cold2"])
    assert status == 202
    run_worker(server_client, server_aws)
    after = shown(server_client, image["id"])
    # cold was copied first, then undone; cold2 was never tried; the image stays active.
    assert after["status"] == "active"
    assert after["stores"] == "default"
    assert after["os_glance_failed_import"] == "broken"
    assert after["os_glance_importing_to_stores"] == ""
    assert "broken" in after["os_glint_import_error"]
    assert keys_in(COLD, image["id"]) == [] and keys_in(COLD2, image["id"]) == []
    assert _statuses(image["id"]) == {"default": ["active"]}
    response = server_client.http.get(f"/v2/images/{image['id']}/file")
    assert requests.get(response.headers["Location"], timeout=30).content == DATA


def test_failing_store_keeps_the_others_when_not_all_must_succeed(server_client, server_aws,
                                                                  image):
    status, _ = request_copy(server_client, image["id"], stores=["broken", "cold"],
                             all_stores_must_succeed=False)
    assert status == 202
    run_worker(server_client, server_aws)
    after = shown(server_client, image["id"])
    assert after["stores"] == "default,cold"
    assert after["os_glance_failed_import"] == "broken"
    assert after["os_glance_importing_to_stores"] == ""
    assert len(keys_in(COLD, image["id"])) == 1
    # A retry of the failed store takes it off the failed list while it runs.
    request_copy(server_client, image["id"], stores=["broken"], all_stores_must_succeed=False)
    retrying = shown(server_client, image["id"])
    assert retrying["os_glance_failed_import"] == ""
    assert retrying["os_glance_importing_to_stores"] == "broken"


def test_redelivered_request_copies_once(server_client, server_aws, image):
    request_copy(server_client, image["id"], stores=["cold"])
    messages = drain(server_aws.queue_url, wait=0)
    [request] = [item for m in messages for item in parse_message(m["Body"])
                 if isinstance(item, copies.CopyRequest)]
    assert copies.copy_to_stores(request).copied == ("cold",)
    assert copies.copy_to_stores(request).copied == ()  # SQS delivered it twice
    assert _statuses(image["id"])["cold"] == ["active"]
    assert len(keys_in(COLD, image["id"])) == 1


def test_interrupted_copy_is_redone_from_scratch(server_client, server_aws, image,
                                                 monkeypatch):
    request_copy(server_client, image["id"], stores=["cold"])
    [request] = [item for m in drain(server_aws.queue_url, wait=0)
                 for item in parse_message(m["Body"]) if isinstance(item, copies.CopyRequest)]

    def die(*_args):
        raise RuntimeError("worker killed mid-copy")

    with monkeypatch.context() as patched:
        patched.setattr(copies.stores, "copy", die)
        with pytest.raises(RuntimeError):
            copies.copy_to_stores(request)
    assert _statuses(image["id"])["cold"] == ["pending"]  # left behind, still importing
    assert copies.copy_to_stores(request).copied == ("cold",)
    assert _statuses(image["id"])["cold"] == ["active"]
    assert len(keys_in(COLD, image["id"])) == 1


def test_two_copy_requests_keep_both_locations(server_client, server_aws, image):
    assert request_copy(server_client, image["id"], stores=["cold"])[0] == 202
    assert request_copy(server_client, image["id"], stores=["cold2"])[0] == 202
    assert shown(server_client, image["id"])["os_glance_importing_to_stores"] == "cold,cold2"
    run_worker(server_client, server_aws)
    assert shown(server_client, image["id"])["stores"] == "default,cold,cold2"


def test_dead_letter_fails_the_unfinished_stores(server_client, server_aws, image):
    request_copy(server_client, image["id"], stores=["cold", "cold2"])
    [request] = [item for m in drain(server_aws.queue_url, wait=0)
                 for item in parse_message(m["Body"]) if isinstance(item, copies.CopyRequest)]
    assert copies.dead_letter(request)
    after = shown(server_client, image["id"])
    assert after["os_glance_failed_import"] == "cold,cold2"
    assert after["os_glance_importing_to_stores"] == "" and after["stores"] == "default"
    assert not copies.dead_letter(request)


def test_deleting_the_image_removes_every_store_copy(server_client, server_aws, image):
    request_copy(server_client, image["id"], stores=["cold"])
    run_worker(server_client, server_aws)
    assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    assert keys_in(COLD, image["id"]) == []
    assert keys_in(get_settings().bucket, image["id"]) == []


def test_missing_bucket_is_never_created(server_aws, image):
    buckets = {b["Name"] for b in aws.s3().list_buckets()["Buckets"]}
    assert MISSING not in buckets and {COLD, COLD2} <= buckets


def test_copy_to_a_store_in_another_region(server_client, server_aws, monkeypatch):
    far = "glint-test-far"
    override_settings(monkeypatch, GLINT_STORES=json.dumps([
        {"id": "default", "bucket": get_settings().bucket, "default": True},
        {"id": "far", "bucket": far, "region": "eu-west-1"}]))
    aws.s3("eu-west-1").create_bucket(
        Bucket=far, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    image = active_image(server_client, DATA)
    assert request_copy(server_client, image["id"], stores=["far"])[0] == 202
    run_worker(server_client, server_aws)
    assert shown(server_client, image["id"])["stores"] == "default,far"
    response = server_client.http.get(f"/v2/images/{image['id']}/file?prefer=far")
    assert "eu-west-1" in response.headers["Location"]
    assert requests.get(response.headers["Location"], timeout=30).content == DATA


def _copy_task(client, image_id: str) -> dict:
    tasks = call(client, "GET", f"/v2/images/{image_id}/tasks")[1]["tasks"]
    return next(t for t in tasks if t["input"]["import_req"]["method"]["name"] == "copy-image")


def test_copy_image_is_a_task_that_succeeds_or_fails_with_the_store(server_client, server_aws,
                                                                   image):
    request_copy(server_client, image["id"], stores=["cold"])
    assert _copy_task(server_client, image["id"])["status"] == "pending"
    run_worker(server_client, server_aws)
    done = _copy_task(server_client, image["id"])
    assert done["status"] == "success" and "cold" in done["message"]
    assert done["result"] == {"image_id": image["id"]}
    failing = active_image(server_client, DATA)
    assert request_copy(server_client, failing["id"], stores=["cold", "broken"],
                        all_stores_must_succeed=True)[0] == 202
    run_worker(server_client, server_aws)
    failed = _copy_task(server_client, failing["id"])
    assert failed["status"] == "failure" and "broken" in failed["message"]
