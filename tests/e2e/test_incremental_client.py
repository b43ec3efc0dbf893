"""`glint upload --parent` against the local runtime: the client diffs the file against the
parent's block manifest, Glint copies the unchanged blocks from the parent and the client sends
only the changed one; the child is active, complete and verified. Bad parents are refused
with Glance's codes before any byte is sent."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import requests

from chalicelib.domain.blocks import BLOCK_SIZE
from tests.e2e.test_glint_client import TOKEN, _image, client_env  # noqa: F401

MIB = 1024 * 1024
HEADERS = {"X-Auth-Token": TOKEN}
# This checkout's client, whatever copy of it a shared virtualenv's `glint` script imports.
ROOT = Path(__file__).resolve().parents[2]


def _glint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "glint_client.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def _upload(env, path, *extra: str):
    return _glint(env, "upload", str(path), "--disk-format", "raw", *extra)


def test_child_sends_only_the_changed_block(client_env, glint_runtime, tmp_path):
    parent_data = os.urandom(3 * BLOCK_SIZE + MIB)
    (tmp_path / "parent.raw").write_bytes(parent_data)
    done = _upload(client_env, tmp_path / "parent.raw")
    assert done.returncode == 0, done.stderr
    parent_id = done.stdout.strip()
    changed = bytearray(parent_data)
    changed[BLOCK_SIZE + 100:BLOCK_SIZE + 200] = os.urandom(100)
    (tmp_path / "child.raw").write_bytes(changed)
    done = _upload(client_env, tmp_path / "child.raw", "--parent", parent_id)
    assert done.returncode == 0, done.stderr
    assert "sent 1 part(s), 8.0 MiB" in done.stderr, done.stderr
    assert f"reused 17.0 MiB from parent {parent_id}" in done.stderr, done.stderr
    child = _image(glint_runtime, done.stdout.strip())
    assert child["status"] == "active"
    assert child["os_glint_parent_id"] == parent_id
    assert (child["os_glint_bytes_reused"], child["os_glint_bytes_uploaded"]) == (
        str(2 * BLOCK_SIZE + MIB), str(BLOCK_SIZE))
    assert child["os_hash_value"] == hashlib.sha512(changed).hexdigest()
    target = tmp_path / "back.raw"
    done = _glint(client_env, "download", child["id"], "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == bytes(changed)


def test_bad_parents_are_refused_before_any_data(client_env, glint_runtime, tmp_path):
    (tmp_path / "disk.raw").write_bytes(os.urandom(MIB))
    done = _upload(client_env, tmp_path / "disk.raw", "--parent", "no-such-image")
    assert done.returncode == 1 and "404" in done.stderr, done.stderr
    queued = requests.post(f"{glint_runtime.api}/v2/images", headers=HEADERS, timeout=30,
                           json={"disk_format": "raw", "container_format": "bare"}).json()
    done = _upload(client_env, tmp_path / "disk.raw", "--parent", queued["id"])
    assert done.returncode == 1 and "409" in done.stderr, done.stderr


def test_range_beyond_the_parent_and_other_formats_are_400(client_env, glint_runtime, tmp_path):
    (tmp_path / "small.raw").write_bytes(os.urandom(MIB))
    parent_id = _upload(client_env, tmp_path / "small.raw").stdout.strip()
    api = glint_runtime.api
    child = requests.post(f"{api}/v2/images", headers=HEADERS, timeout=30,
                          json={"disk_format": "raw", "container_format": "bare"}).json()
    grant = requests.post(f"{api}/v2/images/{child['id']}/uploads", headers=HEADERS,
                          timeout=30, json={"size": 2 * MIB, "parent": parent_id}).json()
    answer = requests.post(f"{api}{grant['self']}/copies", headers=HEADERS, timeout=30,
                           json={"parts": [1]})
    assert answer.status_code == 400 and "beyond" in answer.json()["error"]["message"]
    qcow2 = requests.post(f"{api}/v2/images", headers=HEADERS, timeout=30,
                          json={"disk_format": "qcow2", "container_format": "bare"}).json()
    answer = requests.post(f"{api}/v2/images/{qcow2['id']}/uploads", headers=HEADERS,
                           timeout=30, json={"size": MIB, "parent": parent_id})
    assert answer.status_code == 400 and "raw" in answer.json()["error"]["message"]
