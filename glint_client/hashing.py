"""The source file's sha256, read ahead of the senders.

The sha256 `glint upload` declares is the client's largest CPU cost (0.13 s per 256 MiB at
SHA-NI speed). The command starts it before anything else: before Python's imports and the
API calls that create the image and grant the upload, while the client would otherwise only
wait. It runs in a forked process, so it never waits for the GIL the senders, the progress
line and the imports hold. A process that already runs threads is not forked (the child
could inherit a lock another thread held): there the same loop runs in the thread that asks
for the digest.

It reads the file in order, but at most LEAD bytes past the first byte no sender has started,
so that on a file larger than memory what it read is still in the page cache when the
senders read it."""
from __future__ import annotations

import hashlib
import os
import select
import signal
import struct
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

from glint_client.errors import UploadFailed

# A quarter GiB: hashed through the start's API calls and imports on a core they leave idle,
# and little beside any page cache.
LEAD = 256 * 1024 * 1024
BLOCK = 8 * 1024 * 1024
_OFFSET = struct.Struct(">Q")


class _Stopped(Exception):
    """The upload stopped: the digest is no longer wanted."""


class _Frontier(Protocol):
    def limit_after(self, position: int) -> int:
        """The offset the hasher may read up to, once it is past `position` (waits until
        then); raises _Stopped."""


class Sha256Ahead(ABC):
    """The digest of a file's first `size` bytes (its size when hashing started), computed in
    order ahead of the senders."""

    size: int

    @abstractmethod
    def advance(self, offset: int) -> None:
        """The senders have started every byte before `offset` (or need none of them)."""

    @abstractmethod
    def hexdigest(self) -> str:
        """Wait for the sha256 of the file.

        Raises:
            UploadFailed: the upload stopped, or the file could not be read to its size.
        """

    @abstractmethod
    def stop(self) -> None:
        """End the hashing: the digest is no longer wanted."""


def start(source: Path, lead: int = LEAD) -> Sha256Ahead:
    """Start hashing `source` ahead of the senders, in a process of its own where that is safe."""
    if hasattr(os, "fork") and threading.active_count() == 1:
        return _ForkedSha256(source, lead)
    return _ThreadedSha256(source, lead)


def _digest(source: Path, size: int, frontier: _Frontier) -> str:
    whole = hashlib.sha256()
    buffer = memoryview(bytearray(BLOCK))  # refilled: no block allocated anew
    position = 0
    with open(source, "rb", buffering=0) as file:  # no read-ahead past the limit
        while position < size:
            limit = frontier.limit_after(position)
            read = file.readinto(buffer[:min(BLOCK, limit - position, size - position)])
            if not read:
                raise UploadFailed(f"{source} got shorter while it was being sent")
            whole.update(buffer[:read])
            position += read
    return whole.hexdigest()


class _ThreadedSha256(Sha256Ahead):
    """The loop runs in the thread that calls hexdigest()."""

    def __init__(self, source: Path, lead: int) -> None:
        self.source, self.size, self._lead = source, source.stat().st_size, lead
        self._limit = lead
        self._stopped = False
        self._changed = threading.Condition()

    def advance(self, offset: int) -> None:
        with self._changed:
            self._limit = max(self._limit, offset + self._lead)
            self._changed.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def limit_after(self, position: int) -> int:
        with self._changed:
            while self._limit <= position and not self._stopped:
                self._changed.wait()
            if self._stopped:
                raise _Stopped
            return self._limit

    def hexdigest(self) -> str:
        try:
            return _digest(self.source, self.size, self)
        except _Stopped:
            raise UploadFailed("stopped") from None
        except OSError as exc:
            raise UploadFailed(f"{self.source}: {exc}") from exc


class _ForkedSha256(Sha256Ahead):
    """The loop runs in a child process. Offsets go to it over one pipe (closed: stop), the
    outcome comes back over another."""

    def __init__(self, source: Path, lead: int) -> None:
        self.source, self.size = source, source.stat().st_size
        control_end, self._control = os.pipe()
        self._result, result_end = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(self._control)
            os.close(self._result)
            _child(source, self.size, _PipedFrontier(control_end, lead), result_end)
        os.close(control_end)
        os.close(result_end)
        self._sent = 0
        self._lock = threading.Lock()  # senders advance from several threads

    def advance(self, offset: int) -> None:
        with self._lock:
            if self._control < 0 or offset <= self._sent:
                return
            self._sent = offset
            try:
                os.write(self._control, _OFFSET.pack(offset))
            except BrokenPipeError:
                pass  # the child is done: it needs no more room

    def stop(self) -> None:
        with self._lock:
            if self._control >= 0:
                os.close(self._control)  # the child ends at its next block
                self._control = -1

    def hexdigest(self) -> str:
        outcome = bytearray()
        while chunk := os.read(self._result, 4096):
            outcome += chunk
        os.close(self._result)
        os.waitpid(self._pid, 0)
        kind, _, detail = outcome.decode().partition(" ")
        if kind == "sha256":
            return detail
        raise UploadFailed(detail or "stopped")


def _child(source: Path, size: int, frontier: _PipedFrontier, result: int) -> None:
    """The forked hasher: writes "sha256 HEX" or "error WHY" (nothing when stopped), exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        outcome = f"sha256 {_digest(source, size, frontier)}"
    except _Stopped:
        outcome = ""
    except UploadFailed as exc:
        outcome = f"error {exc}"
    except OSError as exc:
        outcome = f"error {source}: {exc}"
    os.write(result, outcome.encode())
    os._exit(0)  # nothing of the parent's (atexit, buffers) runs twice


class _PipedFrontier:
    """The offsets the parent sends, read in the child: drained without waiting at every
    block (the pipe never fills), waited for only when the hasher has caught up."""

    def __init__(self, control: int, lead: int) -> None:
        self._control, self._lead, self._limit = control, lead, lead
        os.set_blocking(control, False)

    def limit_after(self, position: int) -> int:
        while True:
            try:
                sent = os.read(self._control, 4096)  # whole offsets: each written at once
            except BlockingIOError:
                sent = None
            if sent == b"":
                raise _Stopped  # the parent closed it, or is gone
            if sent:
                self._limit = _OFFSET.unpack_from(sent, len(sent) - _OFFSET.size)[0] + self._lead
            if self._limit > position:
                return self._limit
            select.select([self._control], [], [])
