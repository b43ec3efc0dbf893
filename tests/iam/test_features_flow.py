"""Issue #15's flows with IAM enforced (each function signs with its own role from the
synthesized stack): an incremental upload, whose parts the API copies from the parent's
object and whose manifests the worker writes and reads, and signed images, whose
certificates the worker and the API read from the certificate store."""
from __future__ import annotations

import hashlib
import os

import requests

from chalicelib.domain.blocks import BLOCK_SIZE
from tests.iam import flow
from tests.iam.conftest import Runtime
from tests.iam.test_flow import _objects
from tests.pipeline.test_signatures import _key, _sign, _store_certificate


def test_incremental_upload_copies_from_the_parent(runtime: Runtime) -> None:
    parent_data = os.urandom(BLOCK_SIZE + 1000)
    parent_id = flow.create(runtime.api)
    flow.presigned_upload(runtime.api, parent_id, parent_data)
    flow.assert_active_with(runtime.api, parent_id, parent_data)
    blocks = flow.call(runtime.api, "GET", f"/v2/images/{parent_id}/blocks")
    assert blocks.status_code == 200, blocks.text
    child_data = parent_data[:BLOCK_SIZE] + os.urandom(1000)
    child_id = flow.create(runtime.api)
    grant = flow.call(runtime.api, "POST", f"/v2/images/{child_id}/uploads",
                      {"size": len(child_data), "parent": parent_id})
    assert grant.status_code == 201, grant.text
    grant = grant.json()
    copied = flow.call(runtime.api, "POST", f"{grant['self']}/copies", {"parts": [1]})
    assert copied.status_code == 200, copied.text
    part = next(p for p in grant["parts"] if p["part_number"] == 2)
    sent = requests.put(part["url"], data=child_data[BLOCK_SIZE:], headers=part["headers"],
                        timeout=60)
    assert sent.status_code == 200, sent.text
    done = flow.call(runtime.api, "POST", grant["complete"], {"parts": [
        {"part_number": 1, "etag": copied.json()["parts"][0]["etag"]},
        {"part_number": 2, "etag": sent.headers["ETag"]}],
        "sha256": hashlib.sha256(child_data).hexdigest()})
    assert done.status_code == 202, done.text
    child = flow.assert_active_with(runtime.api, child_id, child_data)
    assert child["os_glint_bytes_reused"] == str(BLOCK_SIZE)
    assert flow.call(runtime.api, "DELETE", f"/v2/images/{parent_id}").status_code == 204
    assert not _objects("glint-test-images", f"images/manifests/{parent_id}")
    assert flow.download(runtime.api, child_id) == child_data


def test_signed_images_are_verified_with_the_certificate_store(runtime: Runtime) -> None:
    data, key = os.urandom(300_000), _key("RSA-PSS")
    certificate = _store_certificate(key)

    def signed(over: bytes) -> str:
        return flow.call(runtime.api, "POST", "/v2/images", {
            "name": "signed", "disk_format": "raw", "container_format": "bare",
            "img_signature": _sign(key, "RSA-PSS", "SHA-256", over),
            "img_signature_hash_method": "SHA-256", "img_signature_key_type": "RSA-PSS",
            "img_signature_certificate_uuid": certificate}).json()["id"]

    good = signed(data)  # the worker reads the certificate
    flow.presigned_upload(runtime.api, good, data)
    flow.assert_active_with(runtime.api, good, data)
    refused = flow.put_file(runtime.api, signed(b"other bytes"), data)  # the API reads it
    assert refused.status_code == 400 and "img_signature" in refused.text, refused.text
