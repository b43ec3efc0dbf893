"""Failure paths: the pump leaves failed messages for redelivery, the queue's redrive moves
them to the DLQ, and a worker that crashed mid-copy is retried to `active` exactly once."""
from __future__ import annotations

import json
import os
import time

import pytest

from chalicelib import aws, topology
from chalicelib.blobs import objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from glint_local import provision
from glint_local.pump import EventPump
from tests.support import create_image, deliver, drain, upload_single

MIB = 1024 * 1024


def _upload(client, data: bytes) -> str:
    image = create_image(client)
    upload_single(client, image["id"], data)
    return image["id"]


def test_worker_crash_mid_copy_is_retried_to_active_exactly_once(server_client, server_aws,
                                                                 monkeypatch):
    image_id = _upload(server_client, os.urandom(MIB))
    messages = drain(server_aws.queue_url)
    real_copy = objects.copy
    monkeypatch.setattr(objects, "copy", lambda *a, **k: (_ for _ in ()).throw(
        ConnectionError("worker lost S3 mid-copy")))
    with pytest.raises(ConnectionError):
        deliver(server_client, messages)
    crashed = image_db.get(image_id)
    assert crashed.status == "importing" and crashed.claim.lease_until == 0  # lease released
    monkeypatch.setattr(objects, "copy", real_copy)
    published = []
    monkeypatch.setattr("chalicelib.events.send", lambda event, client=None: bool(
        published.append(event.name) or True))
    deliver(server_client, messages)  # SQS redelivers the same message
    deliver(server_client, messages)  # and perhaps once more
    image = image_db.get(image_id)
    assert image.status == "active" and len(image.locations) == 1
    assert published.count("image.activate") == 1


def test_live_lease_makes_a_concurrent_duplicate_back_off(server_client, server_aws):
    from dataclasses import replace
    from chalicelib.domain.image import ImportClaim, Status
    from chalicelib.pipeline.events import parse_message
    from chalicelib.pipeline.run import Outcome, import_staged_object
    image_id = _upload(server_client, os.urandom(MIB))
    [message] = drain(server_aws.queue_url)
    [obj] = list(parse_message(message["Body"]))
    image = image_db.get(image_id)
    image_db.save(replace(image, status=Status.IMPORTING,
                          claim=ImportClaim(obj.key, time.time() + 600)))
    assert import_staged_object(obj) is Outcome.IGNORED
    assert image_db.get(image_id).status == "importing"
    # Once the other worker's lease lapses, the redelivered event takes over.
    assert import_staged_object(obj, clock=lambda: time.time() + 601) is Outcome.ACTIVATED


def test_pump_redelivers_failures_and_redrive_moves_them_to_the_dlq(server_aws, monkeypatch):
    settings = get_settings()
    sqs = aws.sqs()
    queue_url = server_aws.queue_url
    # A short visibility timeout so redeliveries come quickly.
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"poison": True}))
    arn = f"arn:aws:sqs:{settings.region}:123456789012:{settings.import_queue}"
    calls = []

    def failing_handler(event, context):
        calls.append(event["Records"][0]["messageId"])
        raise RuntimeError("cannot handle this")

    pump = EventPump(app=None, sqs=sqs, queue_urls={}, region=settings.region)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1,
                                    AttributeNames=["All"]).get("Messages", [])
        for message in batch:
            if "poison" in message["Body"]:
                assert pump.deliver(failing_handler, "worker", [message], queue_url, arn) is False
        dlq = sqs.receive_message(QueueUrl=server_aws.resources.dlq_url,
                                  MaxNumberOfMessages=10, WaitTimeSeconds=0)
        if any("poison" in m["Body"] for m in dlq.get("Messages", [])):
            break
    else:
        raise AssertionError("the poison message never reached the DLQ")
    assert len(calls) == topology.MAX_RECEIVE_COUNT


def test_import_that_loses_to_the_reaper_mid_copy_leaves_no_image_object(server_client,
                                                                         server_aws, monkeypatch):
    from chalicelib.pipeline import run
    from tests.support import keys
    image_id = _upload(server_client, os.urandom(2048))
    messages = drain(server_aws.queue_url)
    real_copy = objects.copy

    def copy_then_get_reaped(source, target, *args, **kwargs):
        real_copy(source, target, *args, **kwargs)
        run.fail_import(image_db.get(image_id), "Import stalled (reaped while copying).")

    monkeypatch.setattr(objects, "copy", copy_then_get_reaped)
    deliver(server_client, messages)
    image = image_db.get(image_id)
    assert image.status == "queued" and "reaped" in image.import_error
    assert keys(f"images/{image_id}/") == [] and keys(f"staging/{image_id}/") == []
