"""Incremental images over moto's S3 server: the worker keeps a block manifest of every image
it activates; an upload naming a parent copies unchanged parts from the parent's object
server-side (UploadPartCopy) and sends only the rest; the child is a complete, independent
image verified like any other, with its lineage and saving recorded."""
from __future__ import annotations

import hashlib
import os
import time
import uuid

import requests

from chalicelib import aws, topology
from chalicelib.blobs.manifests import manifest_key
from chalicelib.config import get_settings
from chalicelib.pipeline.sweep import sweep
from chalicelib.domain.blocks import BLOCK_SIZE
from tests.support import call, create_image, deliver, drain, keys, override_settings

MIB = 1024 * 1024
PARENT_SIZE = 3 * BLOCK_SIZE + MIB  # four blocks, the last one short


def _active(client, env, data: bytes, project: str = "admin", **fields) -> dict:
    image = create_image(client, project=project, **fields)
    status, grant, _ = call(client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": len(data)}, project=project, roles="member")
    assert status == 201, grant
    assert requests.put(grant["url"], data=data, headers=grant["headers"],
                        timeout=30).status_code == 200
    deliver(client, drain(env.queue_url))
    image = call(client, "GET", f"/v2/images/{image['id']}")[1]
    assert image["status"] == "active", image
    return image


def _start(client, image_id: str, size: int, parent: str, project: str = "admin"):
    return call(client, "POST", f"/v2/images/{image_id}/uploads",
                {"size": size, "parent": parent}, project=project,
                roles="admin" if project == "admin" else "member")


def _copy(client, grant: dict, parts: list[int]):
    return call(client, "POST", f"{grant['self']}/copies", {"parts": parts})


def _block(data: bytes, number: int) -> bytes:
    return data[(number - 1) * BLOCK_SIZE:number * BLOCK_SIZE]


def test_manifest_lists_the_sha256_of_each_block(server_client, server_aws):
    data = os.urandom(PARENT_SIZE)
    parent = _active(server_client, server_aws, data)
    status, manifest, _ = call(server_client, "GET", f"/v2/images/{parent['id']}/blocks")
    assert status == 200, manifest
    assert manifest["block_size"] == BLOCK_SIZE and manifest["size"] == PARENT_SIZE
    assert manifest["os_hash_value"] == parent["os_hash_value"]
    assert manifest["blocks"] == [hashlib.sha256(_block(data, n)).hexdigest()
                                  for n in range(1, 5)]


def test_child_reuses_unchanged_blocks_and_stands_alone(server_client, server_aws):
    parent_data = os.urandom(PARENT_SIZE)
    parent = _active(server_client, server_aws, parent_data)
    changed = os.urandom(BLOCK_SIZE)
    child_data = parent_data[:BLOCK_SIZE] + changed + parent_data[2 * BLOCK_SIZE:]
    child = create_image(server_client)
    status, grant, _ = _start(server_client, child["id"], len(child_data), parent["id"])
    assert status == 201, grant
    assert grant["part_size"] == BLOCK_SIZE and grant["part_count"] == 4
    uploading = call(server_client, "GET", f"/v2/images/{child['id']}")[1]
    assert uploading["os_glint_parent_id"] == parent["id"]
    status, copied, _ = _copy(server_client, grant, [1, 3, 4])
    assert status == 200, copied
    assert copied["bytes_copied"] == 2 * BLOCK_SIZE + MIB
    etags = {p["part_number"]: p["etag"] for p in copied["parts"]}
    part = next(p for p in grant["parts"] if p["part_number"] == 2)
    sent = requests.put(part["url"], data=changed, headers=part["headers"], timeout=30)
    etags[2] = sent.headers["ETag"]
    status, body, _ = call(server_client, "POST", grant["complete"], {
        "parts": [{"part_number": n, "etag": etags[n]} for n in sorted(etags)],
        "sha256": hashlib.sha256(child_data).hexdigest()})
    assert status == 202, body
    deliver(server_client, drain(server_aws.queue_url))
    image = call(server_client, "GET", f"/v2/images/{child['id']}")[1]
    assert image["status"] == "active", image
    assert image["checksum"] == hashlib.md5(child_data).hexdigest()
    assert image["os_hash_value"] == hashlib.sha512(child_data).hexdigest()
    assert image["os_glint_parent_id"] == parent["id"]
    assert image["os_glint_bytes_reused"] == str(2 * BLOCK_SIZE + MIB)
    assert image["os_glint_bytes_uploaded"] == str(BLOCK_SIZE)
    # Deleting the parent leaves the child whole: its data and manifest are its own.
    assert manifest_key(parent["id"]) in keys("images/manifests/")
    assert call(server_client, "DELETE", f"/v2/images/{parent['id']}")[0] == 204
    assert manifest_key(parent["id"]) not in keys("images/manifests/")
    downloaded = requests.get(call(server_client, "GET", f"/v2/images/{child['id']}/file")[2]
                              ["Location"], timeout=30).content
    assert downloaded == child_data
    status, manifest, _ = call(server_client, "GET", f"/v2/images/{child['id']}/blocks")
    assert status == 200 and manifest["blocks"][1] == hashlib.sha256(changed).hexdigest()


def test_parent_the_caller_cannot_see_is_404(server_client, server_aws):
    hidden = _active(server_client, server_aws, os.urandom(MIB), project="p2",
                     visibility="private")
    child = create_image(server_client, project="p1")
    status, body, _ = _start(server_client, child["id"], MIB, hidden["id"], project="p1")
    assert status == 404, body
    assert call(server_client, "GET", f"/v2/images/{hidden['id']}/blocks", project="p1",
                roles="member")[0] == 404


def test_parent_not_active_is_409(server_client, server_aws):
    queued = create_image(server_client)
    child = create_image(server_client)
    status, body, _ = _start(server_client, child["id"], MIB, queued["id"])
    assert status == 409, body
    assert call(server_client, "GET", f"/v2/images/{queued['id']}/blocks")[0] == 409
    assert call(server_client, "GET", f"/v2/images/{child['id']}")[1]["status"] == "queued"


def test_formats_other_than_raw_are_400(server_client, server_aws):
    parent = _active(server_client, server_aws, os.urandom(MIB))
    child = create_image(server_client, disk_format="qcow2")
    status, body, _ = _start(server_client, child["id"], MIB, parent["id"])
    assert status == 400 and "raw" in body["error"]["message"], body


def test_the_image_itself_or_more_than_10000_parent_blocks_is_400(server_client, server_aws):
    child = create_image(server_client)
    status, body, _ = _start(server_client, child["id"], MIB, child["id"])
    assert status == 400 and "own parent" in body["error"]["message"], body
    parent = _active(server_client, server_aws, os.urandom(MIB))
    status, body, _ = _start(server_client, child["id"], 10_000 * BLOCK_SIZE + 1, parent["id"])
    assert status == 400 and "10000 parts" in body["error"]["message"], body


def test_parent_without_a_manifest_is_404(server_client, server_aws):
    parent = _active(server_client, server_aws, os.urandom(MIB))
    aws.s3().delete_object(Bucket=get_settings().bucket, Key=manifest_key(parent["id"]))
    child = create_image(server_client)
    status, body, _ = _start(server_client, child["id"], MIB, parent["id"])
    assert status == 404 and "no block manifest" in body["error"]["message"], body
    assert call(server_client, "GET", f"/v2/images/{parent['id']}/blocks")[0] == 404


def test_parent_the_caller_may_see_but_not_download_is_403(server_client, server_aws,
                                                          monkeypatch, tmp_path):
    parent = _active(server_client, server_aws, os.urandom(MIB), visibility="public")
    rules = tmp_path / "policy.json"
    rules.write_text('{"download_image": "role:admin or project_id:%(project_id)s"}')
    override_settings(monkeypatch, GLINT_POLICY_FILE=str(rules))
    child = create_image(server_client, project="p1")
    status, body, _ = _start(server_client, child["id"], MIB, parent["id"], project="p1")
    assert status == 403, body
    assert call(server_client, "GET", f"/v2/images/{parent['id']}/blocks", project="p1",
                roles="member")[0] == 403


def test_part_beyond_the_parent_is_400_and_copies_nothing(server_client, server_aws):
    parent = _active(server_client, server_aws, os.urandom(PARENT_SIZE))
    child = create_image(server_client)
    status, grant, _ = _start(server_client, child["id"], 5 * BLOCK_SIZE, parent["id"])
    assert status == 201, grant
    for parts in ([4], [1, 5]):  # block 4 is whole in the child but short in the parent
        status, body, _ = _copy(server_client, grant, parts)
        assert status == 400 and "beyond" in body["error"]["message"], body
    assert call(server_client, "GET", grant["self"])[1]["uploaded_parts"] == []
    for bad in ({"parts": [0]}, {"parts": [1, 1]}, {"parts": "1"}, {"parts": list(range(1, 66))}):
        status, body, _ = call(server_client, "POST", f"{grant['self']}/copies", bad)
        assert status == 400, (bad, body)


def _child_with_parts_copied(client, parent_id: str, size: int, parts: list[int]) -> tuple:
    child = create_image(client)
    status, grant, _ = _start(client, child["id"], size, parent_id)
    assert status == 201, grant
    status, copied, _ = _copy(client, grant, parts)
    assert status == 200, copied
    return child, grant, {p["part_number"]: p["etag"] for p in copied["parts"]}


def test_child_activates_without_the_saving_when_the_parent_is_deleted_first(server_client,
                                                                             server_aws):
    data = os.urandom(PARENT_SIZE)
    parent = _active(server_client, server_aws, data)
    child, grant, etags = _child_with_parts_copied(server_client, parent["id"], len(data),
                                                   [1, 2, 3, 4])
    assert call(server_client, "DELETE", f"/v2/images/{parent['id']}")[0] == 204
    status, body, _ = call(server_client, "POST", grant["complete"], {
        "parts": [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]})
    assert status == 202, body
    deliver(server_client, drain(server_aws.queue_url))
    image = call(server_client, "GET", f"/v2/images/{child['id']}")[1]
    assert image["status"] == "active", image
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert image["os_glint_parent_id"] == parent["id"]
    assert "os_glint_bytes_reused" not in image and "os_glint_bytes_uploaded" not in image


def test_copied_parts_are_verified_like_sent_ones(server_client, server_aws):
    # A client that has Glint copy a block it changed locally declares a sha256 the
    # assembled image does not have: the worker rejects it as any mismatched upload.
    data = os.urandom(PARENT_SIZE)
    parent = _active(server_client, server_aws, data)
    meant = data[:BLOCK_SIZE] + os.urandom(BLOCK_SIZE) + data[2 * BLOCK_SIZE:]
    child, grant, etags = _child_with_parts_copied(server_client, parent["id"], len(data),
                                                   [1, 2, 3, 4])
    status, body, _ = call(server_client, "POST", grant["complete"], {
        "parts": [{"part_number": n, "etag": etags[n]} for n in sorted(etags)],
        "sha256": hashlib.sha256(meant).hexdigest()})
    assert status == 202, body
    deliver(server_client, drain(server_aws.queue_url))
    image = call(server_client, "GET", f"/v2/images/{child['id']}")[1]
    assert image["status"] == "queued", image
    assert "sha256" in image["os_glint_import_error"], image


def test_copies_need_an_upload_with_a_parent(server_client, server_aws):
    image = create_image(server_client)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": 10 * MIB, "multipart": True})
    assert status == 201, grant
    status, body, _ = _copy(server_client, grant, [1])
    assert status == 409, body


def test_the_orphan_sweep_keeps_the_manifests_of_live_images_only(server_client, server_aws):
    live = _active(server_client, server_aws, os.urandom(MIB))
    stray = manifest_key(str(uuid.uuid4()))
    aws.s3().put_object(Bucket=get_settings().bucket, Key=stray, Body=b"{}")
    swept = sweep(time.time() + topology.ORPHAN_GRACE_SECONDS + 3600)
    assert f"default:{stray}" in swept.objects
    assert keys("images/manifests/") == [manifest_key(live["id"])]
