"""`glint upload --parent` against a full upload of the same 1 GiB raw file, in the same run
against the local runtime: with 5% of the blocks changed, the client sends only those blocks
(<= 10% of the bytes), Glint copies the rest from the parent, and the image reaches `active`
with the same digests a full upload gives. Prints bytes sent and seconds for both, split into
the client's phase (until the upload is completed) and the worker's verification of the whole
image; asserts correctness only (the byte count is exact, not a timing)."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from chalicelib.domain.blocks import BLOCK_SIZE
from tests.bench.conftest import report
from tests.e2e.conftest import glint_runtime  # noqa: F401 - the runtime fixture

# 1 GiB; GLINT_BENCH_INCREMENTAL_MIB sets another size (the local S3 can need more than its
# client's 60 s to complete a 1 GiB multipart upload on a heavily loaded machine).
SIZE = int(os.environ.get("GLINT_BENCH_INCREMENTAL_MIB", "1024")) * 1024 ** 2
CHANGED_SHARE = 0.05
TOKEN = "bench:p1:member,reader"


def _upload(env: dict[str, str], api: str, source: Path, *extra: str
            ) -> tuple[str, str, float, float]:
    """(image id, client log, seconds until the upload completed, seconds more to active)."""
    began = time.perf_counter()
    # This checkout's client (-m from its root), whatever a shared virtualenv's script imports.
    # Completing a 1 GiB upload can take the local S3 longer than the default 60 s on a busy
    # machine.
    done = subprocess.run([sys.executable, "-m", "glint_client.cli", "--api-timeout", "600",
                           "upload", str(source), "--disk-format", "raw", "--no-wait", *extra],
                          env=env, cwd=Path(__file__).resolve().parents[2], capture_output=True,
                          text=True, timeout=1800, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    sent = time.perf_counter()
    image_id = done.stdout.strip()
    # The worker's pass over the whole image (digests, manifest, signature) and activation.
    shown = f"{api}/v2/images/{image_id}"
    while (status := requests.get(shown, headers={"X-Auth-Token": TOKEN},
                                  timeout=30).json()["status"]) != "active":
        assert status in ("uploading", "importing") and time.perf_counter() - sent < 1200, status
        time.sleep(0.2)
    return image_id, done.stderr, sent - began, time.perf_counter() - sent


def _bytes_sent(stderr: str) -> float:
    value, unit = re.search(r"sent \d+ part\(s\), ([\d.]+) (B|KiB|MiB|GiB)", stderr).groups()
    return float(value) * 1024 ** ("B", "KiB", "MiB", "GiB").index(unit)


@pytest.mark.slow
def test_incremental_upload_sends_only_changed_blocks(glint_runtime, tmp_path, capsys):  # noqa: F811
    source = tmp_path / "disk.raw"
    with open(source, "wb") as file:
        for _ in range(SIZE // BLOCK_SIZE):
            file.write(os.urandom(BLOCK_SIZE))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OS_"))},
           "OS_ENDPOINT": glint_runtime.api, "OS_TOKEN": TOKEN,
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    parent_id, full_log, full_send, full_verify = _upload(env, glint_runtime.api, source)
    blocks = SIZE // BLOCK_SIZE
    changed = range(0, blocks, round(1 / CHANGED_SHARE))  # every 20th block: 5%
    with open(source, "r+b") as file:
        for number in changed:
            file.seek(number * BLOCK_SIZE + 4096)
            file.write(os.urandom(512))
    child_id, child_log, child_send, child_verify = _upload(env, glint_runtime.api, source,
                                                            "--parent", parent_id)
    child = requests.get(f"{glint_runtime.api}/v2/images/{child_id}",
                         headers={"X-Auth-Token": TOKEN}, timeout=30).json()
    expected = hashlib.sha512()
    with open(source, "rb") as file:
        while block := file.read(BLOCK_SIZE):
            expected.update(block)
    assert child["status"] == "active" and child["os_hash_value"] == expected.hexdigest()
    sent = _bytes_sent(child_log)
    assert sent == len(changed) * BLOCK_SIZE <= 0.10 * SIZE
    assert child["os_glint_bytes_uploaded"] == str(len(changed) * BLOCK_SIZE)
    full_seconds, child_seconds = full_send + full_verify, child_send + child_verify
    report(capsys, f"incremental upload of {SIZE // 2**20} MiB against a full one", [
        f"full upload:        {_bytes_sent(full_log) / 2**20:8.1f} MiB sent, "
        f"{full_seconds:6.1f} s to active ({full_send:.1f} s client to completion, "
        f"{full_verify:.1f} s verification)",
        f"incremental upload: {sent / 2**20:8.1f} MiB sent ({100 * sent / SIZE:.1f}%), "
        f"{child_seconds:6.1f} s to active ({child_send:.1f} s client to completion, "
        f"{child_verify:.1f} s verification; {len(changed)} of {blocks} blocks changed)",
        f"bytes ratio {sent / SIZE:.3f}, time ratio {child_seconds / full_seconds:.2f} "
        f"(client phase {child_send / full_send:.2f})"])
