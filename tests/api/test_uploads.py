"""The direct-upload extension's answers and error codes (in-process moto)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from chalicelib.db import images as image_db
from tests.support import PATCH, call, create_image

MIB = 1024 * 1024


def _start(client, image_id, body, project="admin", roles="admin"):
    return call(client, "POST", f"/v2/images/{image_id}/uploads", body, project=project, roles=roles)


def test_single_upload_url_signs_length_and_checksum_and_names_only_staging(client):
    image = create_image(client)
    sha = "ab" * 32
    status, grant, _ = _start(client, image["id"], {"size": 1234, "sha256": sha})
    assert status == 201 and grant["type"] == "single" and grant["status"] == "uploading"
    url = urlparse(grant["url"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"/staging/{image['id']}/{grant['upload_id']}")
    assert query["X-Amz-SignedHeaders"] == ["content-length;host;x-amz-checksum-sha256"]
    assert query["X-Amz-Expires"] == ["900"]
    assert grant["headers"]["Content-Length"] == "1234"
    stored = image_db.get(image["id"])
    assert stored.status == "uploading" and stored.upload.size == 1234
    assert stored.upload.sha256 == sha


def test_multipart_grant_lists_parts_with_signed_lengths(client):
    image = create_image(client)
    status, grant, _ = _start(client, image["id"], {"size": 12 * MIB, "multipart": True,
                                                    "part_size": 5 * MIB})
    assert status == 201 and grant["type"] == "multipart"
    assert [p["size"] for p in grant["parts"]] == [5 * MIB, 5 * MIB, 2 * MIB]
    for part in grant["parts"]:
        query = parse_qs(urlparse(part["url"]).query)
        assert query["partNumber"] == [str(part["part_number"])]
        assert query["X-Amz-SignedHeaders"] == ["content-length;host"]
    status, again, _ = call(client, "GET", grant["self"] + "?first_part=2")
    assert status == 200 and [p["part_number"] for p in again["parts"]] == [2, 3]
    assert again["uploaded_parts"] == []


def test_large_sizes_choose_multipart_and_cap_part_count(client):
    image = create_image(client)
    status, grant, _ = _start(client, image["id"], {"size": 600 * 1024 * MIB})
    assert status == 201 and grant["type"] == "multipart"
    assert grant["part_count"] <= 10_000 and len(grant["parts"]) == 1000
    assert grant["next_parts"].endswith("?first_part=1001")


def test_upload_request_validation(client):
    image_id = create_image(client)["id"]
    for body in ({}, {"size": 0}, {"size": "10"}, {"size": True}, {"size": 5, "sha256": "xyz"},
                 {"size": 5, "part_size": 1}, {"size": 5, "multipart": "yes"},
                 {"size": 5, "bogus": 1}):
        status, error, _ = _start(client, image_id, body)
        assert status == 400, body
        assert error["error"]["message"]
    assert _start(client, image_id, "nope")[0] == 400
    status, _, _ = _start(client, image_id, {"size": 6 * 1024 * MIB, "multipart": False})
    assert status == 413
    assert image_db.get(image_id).status == "queued"  # nothing half-written


def test_upload_needs_formats_and_a_queued_image(client):
    bare = call(client, "POST", "/v2/images", {"name": "no formats"})[1]
    status, error, _ = _start(client, bare["id"], {"size": 10})
    assert status == 409 and "disk_format" in error["error"]["message"]
    assert _start(client, "00000000-0000-0000-0000-000000000000", {"size": 10})[0] == 404


def test_upload_to_other_projects_image(client):
    private = create_image(client, project="p1", visibility="private")
    assert _start(client, private["id"], {"size": 10}, project="p2", roles="member")[0] == 404
    public = create_image(client, visibility="public")
    assert _start(client, public["id"], {"size": 10}, project="p2", roles="member")[0] == 403


def test_new_upload_supersedes_and_abort_returns_to_queued(client):
    image = create_image(client)
    first = _start(client, image["id"], {"size": 10})[1]
    second = _start(client, image["id"], {"size": 20})[1]
    assert first["upload_id"] != second["upload_id"]
    assert call(client, "DELETE", first["self"])[0] == 404
    assert call(client, "DELETE", second["self"])[0] == 204
    stored = image_db.get(image["id"])
    assert stored.status == "queued" and stored.upload is None


def test_complete_checks_the_parts(client):
    image = create_image(client)
    single = _start(client, image["id"], {"size": 10})[1]
    assert call(client, "POST", single["self"] + "/complete", {"parts": []})[0] == 409
    grant = _start(client, image["id"], {"size": 6 * MIB, "multipart": True,
                                         "part_size": 5 * MIB})[1]
    status, error, _ = call(client, "POST", grant["complete"],
                            {"parts": [{"part_number": 1, "etag": "x"},
                                       {"part_number": 2, "etag": "y"}]})
    assert status == 400 and "missing" in error["error"]["message"]
    assert call(client, "POST", grant["complete"], {"parts": "all"})[0] == 400
    assert image_db.get(image["id"]).status == "uploading"


def test_completion_sha256_must_be_hex_and_agree_with_the_grant(client):
    image = create_image(client)
    grant = _start(client, image["id"], {"size": 6 * MIB, "multipart": True,
                                         "sha256": "ab" * 32})[1]
    parts = [{"part_number": 1, "etag": "x"}, {"part_number": 2, "etag": "y"}]
    status, error, _ = call(client, "POST", grant["complete"], {"parts": parts, "sha256": "nope"})
    assert status == 400 and "64 hexadecimal" in error["error"]["message"]
    status, error, _ = call(client, "POST", grant["complete"], {"parts": parts, "sha256": "cd" * 32})
    assert status == 400 and "differs" in error["error"]["message"]
    assert image_db.get(image["id"]).upload.sha256 == "ab" * 32


def test_formats_cannot_change_while_uploading(client):
    image = create_image(client)
    _start(client, image["id"], {"size": 10})
    status, _, _ = call(client, "PATCH", f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": "/disk_format", "value": "qcow2"}],
                        content_type=PATCH)
    assert status == 403
