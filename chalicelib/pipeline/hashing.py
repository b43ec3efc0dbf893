"""Digests of a byte stream, computed in one pass with one thread per hash.

hashlib releases the GIL while it hashes a buffer larger than 2 KiB, so md5, sha512 (and a
declared sha256) each run on their own core: the pass goes at the speed of the slowest hash
alone instead of the sum of all three. The caller's thread reads the stream and shows each
chunk to the observers (format inspection, spooling) meanwhile. Memory stays bounded: each
hash thread holds at most `_QUEUE_DEPTH` chunks, shared (never copied) between them."""
from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

OS_HASH_ALGO = "sha512"
# Chunks waiting per hash thread: enough to ride out a slow read, small enough to bound memory.
_QUEUE_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Digests:
    """What Glance records for image data, plus the sha256 a client may have declared."""

    size: int
    md5: str
    sha512: str
    sha256: str | None


class _HashThread:
    """One hash fed from its own bounded queue on its own thread."""

    def __init__(self, algorithm: str) -> None:
        self._hash = hashlib.new(algorithm, usedforsecurity=algorithm != "md5")
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._abandoned = False
        self._thread = threading.Thread(target=self._run, name=f"hash-{algorithm}", daemon=True)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        self._queue.put(chunk)  # blocks while this hash is _QUEUE_DEPTH chunks behind

    def finish(self) -> str:
        self._queue.put(None)
        self._thread.join()
        return self._hash.hexdigest()

    def abandon(self) -> None:
        """Stop hashing (the pass failed): skip what is queued and end the thread."""
        self._abandoned = True
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if not self._abandoned:
                self._hash.update(chunk)


class ParallelHashes:
    """md5, sha512 (and sha256 when asked), each on its own thread, for use in a `with`."""

    def __init__(self, with_sha256: bool = False) -> None:
        names = ("md5", "sha512", "sha256") if with_sha256 else ("md5", "sha512")
        self._threads = {name: _HashThread(name) for name in names}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        """Hand one chunk to every hash thread (waits only if one is far behind)."""
        if not chunk:
            return
        for thread in self._threads.values():
            thread.feed(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        """Wait for every hash to catch up, and return the results."""
        done = {name: thread.finish() for name, thread in self._threads.items()}
        self._threads = {}
        return Digests(size=self.size, md5=done["md5"], sha512=done["sha512"],
                       sha256=done.get("sha256"))

    def __enter__(self) -> ParallelHashes:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for thread in self._threads.values():  # left only when the pass did not finish
            thread.abandon()
        self._threads = {}


def digest(chunks: Iterable[bytes], with_sha256: bool = False,
           on_progress: Callable[[int], None] | None = None,
           observers: Sequence[Callable[[bytes], None]] = ()) -> Digests:
    """md5, sha512 (and sha256 when asked) and the length of a stream, in a single pass;
    each observer (format inspection, spooling to disk) sees every chunk in the same pass."""
    with ParallelHashes(with_sha256) as hashes:
        for chunk in chunks:
            hashes.update(chunk)
            for observe in observers:
                observe(chunk)
            if on_progress is not None:
                on_progress(hashes.size)
        return hashes.digests()
