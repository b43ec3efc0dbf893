"""Nothing stays pending forever: stalled imports, lost events, abandoned uploads, and
messages that reach the dead-letter queue."""
from __future__ import annotations

import os
import time

import pytest
import requests

from chalicelib import aws
from chalicelib.blobs import objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.pipeline.recovery import reap
from glint_local.pump import scheduled_event, sqs_event
from tests.support import call, create_image, deliver, drain, override_settings

LATER = time.time() + get_settings().reap_after_seconds + 3600


def _grant(client, size, **extra):
    image = create_image(client)
    grant = call(client, "POST", f"/v2/images/{image['id']}/uploads", {"size": size, **extra})[1]
    return image["id"], grant


def _staged(image_id):
    listed = aws.s3().list_objects_v2(Bucket=get_settings().bucket, Prefix=f"staging/{image_id}/")
    return listed.get("KeyCount", 0)


def _crash_during_copy(client, messages, monkeypatch):
    monkeypatch.setattr(objects, "copy", lambda *a, **k: (_ for _ in ()).throw(
        TimeoutError("S3 copy timed out")))
    with pytest.raises(TimeoutError):
        deliver(client, messages)
    monkeypatch.undo()


def test_stalled_import_is_failed_with_reason_and_data_removed(server_client, server_aws,
                                                              monkeypatch):
    image_id, grant = _grant(server_client, 1000)
    requests.put(grant["url"], data=os.urandom(1000), timeout=30).raise_for_status()
    _crash_during_copy(server_client, drain(server_aws.queue_url), monkeypatch)
    assert image_db.get(image_id).status == "importing"
    assert reap(time.time()).failed == ()  # not yet past the grace period
    result = reap(LATER)
    assert result.failed == (image_id,)
    image = image_db.get(image_id)
    assert image.status == "queued" and "stalled" in image.import_error
    assert _staged(image_id) == 0


def test_lost_event_is_requested_again_and_activates(server_client, server_aws):
    image_id, grant = _grant(server_client, 2048)
    requests.put(grant["url"], data=os.urandom(2048), timeout=30).raise_for_status()
    drain(server_aws.queue_url)  # the S3 event is lost
    assert reap(LATER).requeued == (image_id,)
    deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image_id).status == "active"


def test_abandoned_multipart_upload_is_failed_and_aborted(server_client, server_aws):
    image_id, grant = _grant(server_client, 6 * 1024 * 1024, multipart=True,
                             part_size=5 * 1024 * 1024)
    assert reap(LATER).failed == (image_id,)
    image = image_db.get(image_id)
    assert image.status == "queued" and "abandoned" in image.import_error
    uploads = aws.s3().list_multipart_uploads(Bucket=get_settings().bucket,
                                              Prefix=f"staging/{image_id}/")
    assert not uploads.get("Uploads")


def test_staged_glance_direct_data_is_left_alone(server_client, server_aws):
    image = create_image(server_client)
    server_client.http.put(f"/v2/images/{image['id']}/stage", body=b"keep me",
                           headers={"Content-Type": "application/octet-stream"})
    result = reap(LATER)
    assert image["id"] not in result.failed + result.requeued
    assert image_db.get(image["id"]).status == "uploading"
    assert _staged(image["id"]) == 1


def test_dead_letter_handler_fails_import_with_last_error(server_client, server_aws,
                                                          monkeypatch):
    image_id, grant = _grant(server_client, 500)
    requests.put(grant["url"], data=os.urandom(500), timeout=30).raise_for_status()
    messages = drain(server_aws.queue_url)
    _crash_during_copy(server_client, messages, monkeypatch)
    assert "S3 copy timed out" in image_db.get(image_id).import_error
    event = sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:dlq", "us-east-1")
    server_client.lambda_.invoke("import_dead_letters", event)
    image = image_db.get(image_id)
    assert image.status == "queued"
    assert image.import_error.startswith("Import failed after repeated attempts")
    assert "S3 copy timed out" in image.import_error and _staged(image_id) == 0


def test_reaper_runs_as_a_scheduled_function(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_PRESIGN_EXPIRES_SECONDS="1", GLINT_REAP_AFTER_SECONDS="0")
    image_id, _ = _grant(server_client, 100)
    time.sleep(1.2)  # the upload URL expires unused
    server_client.lambda_.invoke(
        "import_reaper", scheduled_event("arn:aws:events:us-east-1:1:rule/r", "us-east-1"))
    assert "abandoned" in image_db.get(image_id).import_error
