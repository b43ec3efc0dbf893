"""Verify + inspect against this machine's limit, over the same bytes in the same run.

The limit is the slowest of md5, sha512 (and sha256 when declared) each run alone: no pass
that computes all of them can beat it. Glint's pass (one thread per hash, the inspectors on
the caller's thread, 8 MiB chunks as the ranged reads deliver them) should reach >= 0.9 of
it on >= 2 cores. The old pass (every hash in turn on one thread) is printed beside it."""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator

import pytest

from chalicelib.pipeline.hashing import digest
from chalicelib.pipeline.inspect import StreamInspector
from tests.bench.conftest import report

MIB = 1024 * 1024
CHUNK = 8 * MIB
TOTAL_MIB = 1024
BLOCKS = [os.urandom(CHUNK) for _ in range(4)]


def _chunks() -> Iterator[bytes]:
    return (BLOCKS[i % len(BLOCKS)] for i in range(TOTAL_MIB * MIB // CHUNK))


def _alone(name: str) -> str:
    hasher = hashlib.new(name)
    for chunk in _chunks():
        hasher.update(chunk)
    return hasher.hexdigest()


def _sequential(names: tuple[str, ...]) -> list[str]:
    """The pass as it was: every hash in turn, and the inspectors, on one thread."""
    hashers = [hashlib.new(name) for name in names]
    inspector = StreamInspector("raw", max_virtual_size=1 << 50)
    for chunk in _chunks():
        for hasher in hashers:
            hasher.update(chunk)
        inspector.eat(chunk)
    return [hasher.hexdigest() for hasher in hashers]


def _seconds(run: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def _cpu_seconds(run: Callable[[], object]) -> float:
    """CPU time of the whole process (every thread): the work done, whatever the load."""
    start = time.process_time()
    run()
    return time.process_time() - start


@pytest.mark.parametrize("with_sha256", [False, True], ids=["md5+sha512", "md5+sha512+sha256"])
def test_verify_and_inspect_against_the_slowest_single_hash(capsys, with_sha256):
    names = ("md5", "sha512", "sha256") if with_sha256 else ("md5", "sha512")
    alone = {name: _seconds(lambda n=name: _alone(n)) for name in names}
    limit = max(seconds for _, seconds in alone.values())
    inspector = StreamInspector("raw", max_virtual_size=1 << 50)
    result, glint = _seconds(lambda: digest(_chunks(), with_sha256=with_sha256,
                                            observers=[inspector.eat]))
    old, sequential = _seconds(lambda: _sequential(names))
    hashes_cpu = sum(_cpu_seconds(lambda n=name: _alone(n)) for name in names)
    glint_cpu = _cpu_seconds(lambda: digest(_chunks(), with_sha256=with_sha256,
                                            observers=[StreamInspector("raw", 1 << 50).eat]))
    assert [result.md5, result.sha512] == [alone["md5"][0], alone["sha512"][0]] == old[:2]
    assert result.sha256 == (alone["sha256"][0] if with_sha256 else None)
    assert result.size == TOTAL_MIB * MIB and inspector.verdict().format == "raw"
    report(capsys, f"verify+inspect throughput, {'+'.join(names)}, {os.cpu_count()} cores", [
        *(f"{name + ' alone:':26}{TOTAL_MIB / s:8.1f} MiB/s" for name, (_, s) in alone.items()),
        f"limit (slowest alone):    {TOTAL_MIB / limit:8.1f} MiB/s",
        f"Glint verify+inspect:     {TOTAL_MIB / glint:8.1f} MiB/s",
        f"old sequential pass:      {TOTAL_MIB / sequential:8.1f} MiB/s",
        f"Glint / limit (>= 0.90):  {limit / glint:8.2f}",
        f"old / limit:              {limit / sequential:8.2f}",
        f"Glint CPU / hashes' CPU:  {glint_cpu / hashes_cpu:8.2f} (work beyond the hashes)",
        f"load average (1 min):     {os.getloadavg()[0]:8.1f} (the limit needs idle cores)",
    ])
