"""Glance's data calls: PUT .../file (verified inline by the worker's code), PUT .../stage and
POST .../import with glance-direct (verified by the worker from the queue)."""
from __future__ import annotations

import hashlib
import os

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from tests.support import call, create_image, deliver, drain, override_settings

OCTETS = "application/octet-stream"


def _put(client, path, data, project="admin", roles="admin", size_header=None):
    headers = {"X-Project-Id": project, "X-Roles": roles, "Content-Type": OCTETS}
    if size_header is not None:
        headers["x-openstack-image-size"] = str(size_header)
    return client.http.put(path, headers=headers, body=data)


def test_put_file_activates_before_answering(server_client, server_aws):
    data = os.urandom(300_000)
    image = create_image(server_client)
    response = _put(server_client, f"/v2/images/{image['id']}/file", data, size_header=len(data))
    assert response.status_code == 204, response.body
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.size == len(data)
    assert stored.checksum == hashlib.md5(data).hexdigest()
    assert stored.os_hash_value == hashlib.sha512(data).hexdigest()
    # S3's own event for the staged object arrives later and changes nothing.
    deliver(server_client, drain(server_aws.queue_url))
    assert image_db.get(image["id"]) == stored


def test_put_file_error_codes(server_client, server_aws, monkeypatch):
    image = create_image(server_client)
    path = f"/v2/images/{image['id']}/file"
    assert _put(server_client, path, b"abc", size_header=4).status_code == 400
    no_formats = call(server_client, "POST", "/v2/images", {"name": "x"})[1]
    assert _put(server_client, f"/v2/images/{no_formats['id']}/file", b"abc").status_code == 400
    assert _put(server_client, path, b"abc").status_code == 204
    assert _put(server_client, path, b"again").status_code == 409  # active
    other = create_image(server_client, project="p1", visibility="private")
    assert _put(server_client, f"/v2/images/{other['id']}/file", b"x", project="p2",
                roles="member").status_code == 404
    override_settings(monkeypatch, GLINT_DIRECT_PUT_MAX_BYTES="10")
    big = create_image(server_client)
    response = _put(server_client, f"/v2/images/{big['id']}/file", b"x" * 11)
    assert response.status_code == 413 and b"/uploads" in response.body
    assert image_db.get(big["id"]).status == "queued"


def test_stage_then_glance_direct_import(server_client, server_aws):
    data = os.urandom(100_000)
    image = create_image(server_client)
    assert _put(server_client, f"/v2/images/{image['id']}/stage", data).status_code == 204
    assert image_db.get(image["id"]).status == "uploading"
    deliver(server_client, drain(server_aws.queue_url))  # S3's event: kept for the import
    assert image_db.get(image["id"]).status == "uploading"
    assert _put(server_client, f"/v2/images/{image['id']}/stage", data).status_code == 409
    status, _, _ = call(server_client, "POST", f"/v2/images/{image['id']}/import",
                        {"method": {"name": "glance-direct"}})
    assert status == 202
    deliver(server_client, drain(server_aws.queue_url))
    stored = image_db.get(image["id"])
    assert stored.status == "active" and stored.os_hash_value == hashlib.sha512(data).hexdigest()
    listed = aws.s3().list_objects_v2(Bucket=get_settings().bucket,
                                      Prefix=f"staging/{image['id']}/")
    assert listed.get("KeyCount", 0) == 0


def test_import_error_codes(server_client, server_aws):
    image = create_image(server_client)
    path = f"/v2/images/{image['id']}/import"
    assert call(server_client, "POST", path, {"method": {"name": "glance-direct"}})[0] == 409
    assert call(server_client, "POST", path, {"method": {"name": "teleport"}})[0] == 400
    assert call(server_client, "POST", path, {"nothing": 1})[0] == 400
    _put(server_client, f"/v2/images/{image['id']}/stage", b"data")
    assert call(server_client, "POST", path, {"method": {"name": "glance-direct"}})[0] == 202
    assert call(server_client, "POST", path, {"method": {"name": "glance-direct"}})[0] == 409
