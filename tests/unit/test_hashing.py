"""Parallel hashing: the same digests as hashlib whatever the chunking, every observer sees
every chunk in order, and a failed pass leaves no hash thread behind."""
from __future__ import annotations

import hashlib
import os
import threading

import pytest

from chalicelib.pipeline import hashing
from chalicelib.pipeline.hashing import ParallelHashes, digest

MIB = 1024 * 1024


def _split(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("chunk_size", [1, 1000, MIB, 3 * MIB + 5])
def test_digests_match_hashlib_whatever_the_chunking(chunk_size):
    data = os.urandom(2 * MIB + 123) if chunk_size > 1 else os.urandom(5000)
    result = digest(_split(data, chunk_size), with_sha256=True)
    assert result.size == len(data)
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha512 == hashlib.sha512(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_sha256_only_when_declared_and_empty_streams_hash_to_the_empty_digests():
    result = digest([])
    assert result == hashing.Digests(0, hashlib.md5(b"").hexdigest(),
                                     hashlib.sha512(b"").hexdigest(), None)


def test_observers_and_progress_see_every_chunk_in_order():
    chunks = [os.urandom(n) for n in (10, MIB, 7, 3 * MIB)]
    seen: list[bytes] = []
    progress: list[int] = []
    digest(chunks, on_progress=progress.append, observers=(seen.append,))
    assert seen == chunks
    assert progress == [10, 10 + MIB, 17 + MIB, 17 + 4 * MIB]


def test_a_failing_stream_stops_every_hash_thread(monkeypatch):
    monkeypatch.setattr(hashing, "_QUEUE_DEPTH", 1)  # the hash threads fall behind at once
    before = {t.name for t in threading.enumerate()}

    def chunks():
        for _ in range(8):
            yield os.urandom(MIB)
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        digest(chunks(), with_sha256=True)
    leftover = [t for t in threading.enumerate()
                if t.name.startswith("hash-") and t.name not in before]
    assert leftover == []


def test_memory_is_bounded_by_the_queue_depth(monkeypatch):
    """A slow hash makes the feeder wait instead of queueing the whole stream."""
    monkeypatch.setattr(hashing, "_QUEUE_DEPTH", 2)
    release = threading.Event()
    original = hashing._HashThread._run

    def slow_run(self):
        release.wait(10)
        original(self)

    monkeypatch.setattr(hashing._HashThread, "_run", slow_run)
    fed: list[int] = []
    with ParallelHashes() as hashes:
        feeder = threading.Thread(target=lambda: [hashes.update(b"x" * 4096) or fed.append(1)
                                                  for _ in range(10)])
        feeder.start()
        feeder.join(0.5)
        assert len(fed) == 2  # two chunks queued per hash, the third waits
        release.set()
        feeder.join(10)
        assert hashes.digests().md5 == hashlib.md5(b"x" * 4096 * 10).hexdigest()
