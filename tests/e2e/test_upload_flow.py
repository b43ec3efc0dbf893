"""The README's promise, end to end: a 64 MiB image uploaded with presigned multipart over
HTTP to the local runtime goes active and comes back byte for byte."""
from __future__ import annotations

import hashlib
import time

import requests

from tests.support import send_parts

MIB = 1024 * 1024
SIZE = 64 * MIB
PART = 8 * MIB


def _pattern(size: int) -> bytes:
    """Deterministic, non-repeating bytes (a counter hashed block by block)."""
    blocks = (hashlib.sha512(i.to_bytes(8, "big")).digest() for i in range(size // 64 + 1))
    return b"".join(blocks)[:size]


def test_64_mib_multipart_upload_goes_active_and_downloads_identically(glint_runtime):
    api = glint_runtime.api
    data = _pattern(SIZE)
    image = requests.post(f"{api}/v2/images", json={
        "name": "e2e", "disk_format": "raw", "container_format": "bare"}, timeout=30).json()
    grant = requests.post(f"{api}/v2/images/{image['id']}/uploads", json={
        "size": SIZE, "multipart": True, "part_size": PART}, timeout=30).json()
    assert grant["type"] == "multipart" and grant["part_count"] == SIZE // PART
    parts = send_parts(grant, data)
    done = requests.post(f"{api}{grant['complete']}", json={"parts": parts}, timeout=60)
    assert done.status_code == 202, done.text

    deadline = time.monotonic() + 120
    while True:
        shown = requests.get(f"{api}/v2/images/{image['id']}", timeout=30).json()
        if shown["status"] == "active" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shown["status"] == "active", shown
    assert shown["size"] == SIZE
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()

    redirect = requests.get(f"{api}/v2/images/{image['id']}/file", allow_redirects=False,
                            timeout=30)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(glint_runtime.aws)
    downloaded = requests.get(redirect.headers["Location"], timeout=120)
    assert downloaded.status_code == 200 and downloaded.content == data


def test_runtime_serves_version_discovery(glint_runtime):
    response = requests.get(f"{glint_runtime.api}/", timeout=10)
    assert response.status_code == 300
    assert response.json()["versions"][0]["links"][0]["href"].startswith(glint_runtime.api)
