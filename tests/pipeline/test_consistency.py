"""The import's writes against everything else that writes the image: a user's edit during an
import never breaks it and is never overwritten; the lease outlives long steps; the bytes
verified are the bytes stored (docs/consistency.md)."""
from __future__ import annotations

import hashlib
import os
import time

import requests

from chalicelib.blobs import objects, reads
from chalicelib.db import images as image_db
from tests.support import call, create_image, deliver, drain, override_settings, upload_single

MIB = 1024 * 1024


def _edit(client, image_id: str, name: str) -> None:
    status, body, _ = call(client, "PATCH", f"/v2/images/{image_id}",
                           [{"op": "replace", "path": "/name", "value": name}],
                           content_type="application/openstack-images-v2.1-json-patch")
    assert status == 200, body
    status, body, _ = call(client, "PUT", f"/v2/images/{image_id}/tags/edited")
    assert status == 204, body


def test_edit_during_import_neither_breaks_it_nor_is_overwritten(server_client, server_aws,
                                                                monkeypatch):
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(MIB))
    real_copy = objects.copy

    def edit_then_copy(*args, **kwargs):
        _edit(server_client, image["id"], "renamed mid-import")
        real_copy(*args, **kwargs)

    monkeypatch.setattr(objects, "copy", edit_then_copy)
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.size == MIB
    assert stored.name == "renamed mid-import" and "edited" in stored.tags


def test_rejection_survives_an_edit_during_verification(server_client, server_aws,
                                                        monkeypatch):
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(MIB), sha256="0" * 64)
    real_read = reads.iter_object

    def edit_then_read(*args, **kwargs):
        _edit(server_client, image["id"], "renamed mid-verify")
        yield from real_read(*args, **kwargs)

    monkeypatch.setattr(reads, "iter_object", edit_then_read)
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "queued" and "sha256" in (stored.import_error or "")
    assert stored.name == "renamed mid-verify"


def test_lease_is_renewed_while_a_long_copy_runs(server_client, server_aws, monkeypatch):
    override_settings(monkeypatch, GLINT_IMPORT_LEASE_SECONDS="1")
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(MIB))
    real_copy = objects.copy
    seen = {}

    def slow_copy(*args, **kwargs):
        time.sleep(2.5)  # more than twice the lease: only a heartbeat keeps it
        seen["lease_left"] = image_db.get(image["id"]).claim.lease_until - time.time()
        real_copy(*args, **kwargs)

    monkeypatch.setattr(objects, "copy", slow_copy)
    deliver(server_client, drain(server_aws.queue_url))
    assert seen["lease_left"] > 0
    assert image_db.get(image["id"]).status == "active"


def test_second_put_during_verification_never_activates_unverified_bytes(
        server_client, server_aws, monkeypatch):
    image = create_image(server_client)
    first, second = os.urandom(MIB), os.urandom(MIB)
    grant = upload_single(server_client, image["id"], first)
    messages = drain(server_aws.queue_url)
    real_read = reads.iter_object

    def read_then_overwrite(*args, **kwargs):
        yield from real_read(*args, **kwargs)
        requests.put(grant["url"], data=second, headers=grant["headers"],
                     timeout=30).raise_for_status()

    monkeypatch.setattr(reads, "iter_object", read_then_overwrite)
    try:
        deliver(server_client, messages)
    except objects.Changed:
        pass  # the attempt fails; SQS redelivers
    assert image_db.get(image["id"]).status == "importing"
    monkeypatch.setattr(reads, "iter_object", real_read)
    deliver(server_client, messages + drain(server_aws.queue_url))  # redelivery, second event
    stored = image_db.get(image["id"])
    assert stored.status == "active"
    assert stored.checksum == hashlib.md5(second).hexdigest()
    data = b"".join(objects.iter_chunks(stored.locations[0].key))
    assert data == second


def test_errors_shown_to_tenants_are_sanitized(server_client, server_aws, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.config import get_settings
    from chalicelib.pipeline import recovery, run
    from chalicelib.pipeline.events import parse_message

    bucket = get_settings().bucket
    image = create_image(server_client)
    upload_single(server_client, image["id"], os.urandom(MIB))
    messages = drain(server_aws.queue_url)

    def denied(*_args, **_kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": (
            "User: arn:aws:sts::123456789012:assumed-role/glint-worker/i may not read "
            f"s3://{bucket}/x")}}, "CopyObject")

    monkeypatch.setattr(objects, "copy", denied)
    try:
        deliver(server_client, messages)
    except ClientError:
        pass
    [item] = list(parse_message(messages[0]["Body"]))
    assert recovery.dead_letter(item)  # every attempt failed: the last error is shown
    shown = image_db.get(image["id"]).import_error
    assert "AccessDenied" in shown
    for secret in ("123456789012", "arn:aws", bucket):
        assert secret not in shown

    other = create_image(server_client)
    upload_single(server_client, other["id"], os.urandom(1000))
    drain(server_aws.queue_url)
    run.fail_import(image_db.get(other["id"]),
                    "web-download of https://example.com/d.raw?sig=s3cret failed: HTTP 404")
    shown = image_db.get(other["id"]).import_error
    assert "s3cret" not in shown and "https://example.com/d.raw" in shown
