"""Verify + inspect (the worker's single pass) against plain hashlib md5 + sha512 over the
same bytes, in the same run. Target: at least 0.9 of hashlib's throughput."""
from __future__ import annotations

import hashlib
import os
import time

from chalicelib.pipeline.hashing import digest
from chalicelib.pipeline.inspect import StreamInspector
from tests.bench.conftest import report

MIB = 1024 * 1024
TOTAL_MIB = 512


BLOCK = os.urandom(MIB)


def _chunks():
    return (BLOCK for _ in range(TOTAL_MIB))


def _baseline() -> tuple[str, str]:
    md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
    for chunk in _chunks():
        md5.update(chunk)
        sha512.update(chunk)
    return md5.hexdigest(), sha512.hexdigest()


def _timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def test_verify_and_inspect_throughput_against_hashlib(capsys):
    (md5, sha512), plain = _timed(_baseline)
    inspector = StreamInspector("raw", max_virtual_size=1 << 50)
    result, piped = _timed(lambda: digest(_chunks(), observers=[inspector.eat]))
    assert (result.md5, result.sha512) == (md5, sha512)
    assert result.size == TOTAL_MIB * MIB
    assert inspector.verdict().format == "raw"
    ratio = plain / piped
    report(capsys, "verify+inspect throughput", [
        f"hashlib md5+sha512:      {TOTAL_MIB / plain:8.1f} MiB/s",
        f"Glint verify+inspect:    {TOTAL_MIB / piped:8.1f} MiB/s",
        f"ratio (target >= 0.90):  {ratio:8.2f}",
    ])
