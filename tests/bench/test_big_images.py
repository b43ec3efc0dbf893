"""Big images through the local runtime (embedded AWS included), as a client sends them:
direct multipart upload into the local S3, then the import. Marked `big`: they take minutes
and tens of GiB of disk, so the default run skips them; run them with
`scripts/test tests/bench -m big -s` (one at a time: GLINT_BENCH_BIG_GIB sizes the first)."""
from __future__ import annotations

import hashlib
import os
import resource
import time

import pytest

from tests.bench.big_runtime import MIB, import_zeros, runtime, wait_for_children, watched
from tests.bench.conftest import report

GIB = 1024 * MIB
pytestmark = pytest.mark.big


def test_a_10_gib_image_imports_with_every_process_under_1_gib(capsys, tmp_path):
    size = int(float(os.environ.get("GLINT_BENCH_BIG_GIB", "10")) * GIB)
    # Above half its size the import goes to the engine's child process: every process is
    # involved, whatever size the run is given.
    with runtime(tmp_path, GLINT_ENGINE_THRESHOLD_BYTES=str(size // 2)) as (api, process):
        with watched(process.pid) as peaks:
            timings = import_zeros(api, size)
            wait_for_children(process.pid)
    image = timings.image
    assert image["status"] == "active", image.get("os_glint_import_error")
    assert image["size"] == size
    bench_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(capsys, f"peak resident memory, {size / GIB:.0f} GiB image (limit 1024 MiB each)", [
        *(f"{name[:60]:60} {mib:8.1f} MiB" for name, mib in sorted(peaks.peaks_mib.items())),
        f"{'this benchmark (the uploading client)':60} {bench_peak:8.1f} MiB",
        f"upload {timings.upload:.0f} s, completed -> active {timings.verify:.0f} s",
    ])
    assert max(peaks.peaks_mib.values()) <= 1024, peaks.peaks_mib


def _slowest_hash_seconds(size: int) -> float:
    block = bytes(8 * MIB)
    slowest = 0.0
    for name in ("md5", "sha512"):
        hasher = hashlib.new(name)
        start = time.perf_counter()
        for _ in range(size // len(block)):
            hasher.update(block)
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def test_1_gib_direct_multipart_upload_time_to_active(capsys, tmp_path):
    size = GIB
    with runtime(tmp_path) as (api, _):
        timings = import_zeros(api, size)
    assert timings.image["status"] == "active", timings.image.get("os_glint_import_error")
    hashing = _slowest_hash_seconds(size)
    report(capsys, "1 GiB image, direct multipart upload -> active", [
        f"time to active:                   {timings.upload + timings.verify:8.1f} s",
        f"  upload into the local S3:       {timings.upload:8.1f} s "
        f"({size / MIB / timings.upload:.0f} MiB/s; its limit is this same upload)",
        f"  completed -> active:            {timings.verify:8.1f} s",
        f"hashing at the limit (slowest of md5, sha512 alone): {hashing:8.1f} s",
        f"limit for the whole (upload + hashing limit):        "
        f"{timings.upload + hashing:8.1f} s",
        f"verify / hashing limit:           {timings.verify / hashing:8.2f}",
    ])
