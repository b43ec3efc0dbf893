"""Uploads over real HTTP into moto's S3 server; moto's notification lands on the real queue;
the worker is invoked with exactly what SQS delivered."""
from __future__ import annotations

import hashlib
import json
import os

import requests

from chalicelib.db import images as image_db
from tests.support import call, create_image, deliver, drain, keys, upload_single

MIB = 1024 * 1024


def _upload_multipart(client, image_id: str, data: bytes, part_size: int,
                      sha256: str | None = None) -> dict:
    status, grant, _ = call(client, "POST", f"/v2/images/{image_id}/uploads",
                            {"size": len(data), "multipart": True, "part_size": part_size})
    assert status == 201, grant
    parts = []
    for part in grant["parts"]:
        start = (part["part_number"] - 1) * part_size
        chunk = data[start:start + part["size"]]
        response = requests.put(part["url"], data=chunk, headers=part["headers"], timeout=30)
        assert response.status_code == 200, response.text
        parts.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    completion = {"parts": parts, **({"sha256": sha256} if sha256 else {})}
    status, body, _ = call(client, "POST", grant["complete"], completion)
    assert status == 202, body
    return grant


def test_sha256_declared_at_completion_is_verified(server_client, server_aws):
    data = os.urandom(6 * MIB)
    good, bad = create_image(server_client), create_image(server_client)
    _upload_multipart(server_client, good["id"], data, 5 * MIB, hashlib.sha256(data).hexdigest())
    _upload_multipart(server_client, bad["id"], data, 5 * MIB, "0" * 64)
    deliver(server_client, drain(server_aws.queue_url))
    assert call(server_client, "GET", f"/v2/images/{good['id']}")[1]["status"] == "active"
    rejected = call(server_client, "GET", f"/v2/images/{bad['id']}")[1]
    assert rejected["status"] == "queued" and "sha256" in rejected["os_glint_import_error"]


def test_presigned_put_activates_with_md5_sha512_and_size(server_client, server_aws):
    data = os.urandom(3 * MIB + 17)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    messages = drain(server_aws.queue_url)
    assert messages, "moto delivered no S3 notification"
    deliver(server_client, messages)
    shown = call(server_client, "GET", f"/v2/images/{image['id']}")[1]
    assert shown["status"] == "active"
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert shown["size"] == len(data)
    assert keys(f"staging/{image['id']}/") == []
    assert len(keys(f"images/{image['id']}/")) == 1


def test_download_redirects_to_the_bytes(server_client, server_aws):
    data = os.urandom(MIB)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    deliver(server_client, drain(server_aws.queue_url))
    response = server_client.http.get(f"/v2/images/{image['id']}/file")
    assert response.status_code == 302
    fetched = requests.get(response.headers["Location"], timeout=30)
    assert fetched.content == data
    ranged = requests.get(response.headers["Location"], headers={"Range": "bytes=10-19"},
                          timeout=30)
    assert ranged.status_code == 206 and ranged.content == data[10:20]


def test_multipart_upload_activates_once_despite_two_events(server_client, server_aws):
    data = os.urandom(12 * MIB + 5)
    image = create_image(server_client)
    _upload_multipart(server_client, image["id"], data, part_size=5 * MIB)
    messages = drain(server_aws.queue_url)
    names = {record["eventName"] for m in messages
             for record in json.loads(m["Body"]).get("Records", [])}
    assert "ObjectCreated:CompleteMultipartUpload" in names and len(messages) >= 2
    deliver(server_client, messages)
    stored = image_db.get(image["id"])
    assert stored.status == "active", stored.import_error
    assert stored.os_hash_value == hashlib.sha512(data).hexdigest()
    assert stored.size == len(data) and len(stored.locations) == 1


def test_duplicated_event_changes_nothing(server_client, server_aws):
    data = os.urandom(MIB)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    messages = drain(server_aws.queue_url)
    deliver(server_client, messages)
    before = image_db.get(image["id"])
    deliver(server_client, messages)  # redelivery of the very same messages
    after = image_db.get(image["id"])
    assert after == before


def test_size_mismatch_returns_image_to_queued_with_reason(server_client, server_aws):
    image = create_image(server_client)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": MIB})
    assert status == 201
    # moto does not enforce the signed Content-Length; the worker must catch it.
    tampered = os.urandom(MIB + 1)
    requests.put(grant["url"], data=tampered, timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    shown = call(server_client, "GET", f"/v2/images/{image['id']}")[1]
    assert shown["status"] == "queued"
    assert "1048577 bytes" in shown["os_glint_import_error"]
    assert shown["checksum"] is None and shown["size"] is None
    assert keys(f"staging/{image['id']}/") == [] and keys(f"images/{image['id']}/") == []


def test_sha256_mismatch_is_rejected(server_client, server_aws):
    data = os.urandom(MIB)
    image = create_image(server_client)
    wrong = hashlib.sha256(b"something else").hexdigest()
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": len(data), "sha256": wrong})
    assert status == 201 and "x-amz-checksum-sha256" in grant["headers"]
    requests.put(grant["url"], data=data, headers={"Content-Length": str(len(data))},
                 timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "queued" and "sha256" in stored.import_error


def test_matching_sha256_activates_and_failed_image_can_be_retried(server_client, server_aws):
    data = os.urandom(MIB)
    image = create_image(server_client)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": 10})
    requests.put(grant["url"], data=data, timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image["id"]).status == "queued"
    upload_single(server_client, image["id"], data, sha256=hashlib.sha256(data).hexdigest())
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.import_error is None


def test_delete_during_import_leaves_nothing_behind(server_client, server_aws):
    data = os.urandom(MIB)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    messages = drain(server_aws.queue_url)
    assert call(server_client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    deliver(server_client, messages)
    assert call(server_client, "GET", f"/v2/images/{image['id']}")[0] == 404
    assert keys(f"staging/{image['id']}/") == [] and keys(f"images/{image['id']}/") == []


def test_superseded_upload_object_is_discarded(server_client, server_aws):
    image = create_image(server_client)
    first = call(server_client, "POST", f"/v2/images/{image['id']}/uploads", {"size": 4})[1]
    second_data = os.urandom(MIB)
    upload_single(server_client, image["id"], second_data)
    # A late upload to the first (superseded) URL must not become the image.
    requests.put(first["url"], data=b"old!", timeout=30).raise_for_status()
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.size == len(second_data)
    assert keys(f"staging/{image['id']}/") == []
