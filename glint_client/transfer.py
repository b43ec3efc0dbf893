"""PUT a range of a file to a presigned URL, over a kept-alive connection of the calling thread.

Over plain http (the local runtime; S3 behind a TLS-terminating proxy) the bytes go from the
page cache to the socket by sendfile, never through Python: that leaves the CPU to the sha256
the client has to compute anyway. Over https the kernel cannot encrypt them, and through an
`http_proxy` requests knows the way, so there they are read into one reused buffer a block at
a time and sent through requests. Either way memory stays bounded whatever the part's size."""
from __future__ import annotations

import http.client
import os
import select
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import SplitResult, urlsplit

import requests

BLOCK = 1024 * 1024
# Bytes handed to one sendfile call: progress (and a stop) is seen at this step.
SENDFILE_STEP = 4 * BLOCK
TIMEOUT_SECONDS = 120
_mine = threading.local()  # this thread's connections, and its block buffer


@dataclass(frozen=True, slots=True)
class Answer:
    """The server's answer to one PUT."""

    status: int
    headers: Mapping[str, str]  # names in any case
    text: str


def put_range(url: str, headers: Mapping[str, str], file: BinaryIO, offset: int, length: int,
              sent: Callable[[int], None]) -> Answer:
    """PUT `length` bytes of `file` from `offset` to `url` with `headers` (and the
    Content-Length the URL signs), calling `sent` with each step's byte count; whatever
    `sent` raises ends the PUT.

    Raises:
        OSError: the bytes could not be sent, or no answer came (worth another attempt).
        EOFError: the file got shorter while it was being sent.
    """
    target = urlsplit(url)
    if target.scheme == "http" and not _proxied(target.hostname):
        return _put_by_sendfile(target, headers, file, offset, length, sent)
    answer = _session().put(url, data=_Blocks(file.fileno(), offset, length, sent),
                            headers=dict(headers), timeout=TIMEOUT_SECONDS)
    return Answer(answer.status_code, answer.headers, answer.text)


def _put_by_sendfile(target: SplitResult, headers: Mapping[str, str], file: BinaryIO,
                     offset: int, length: int, sent: Callable[[int], None]) -> Answer:
    connection = _connection(target.hostname or "", target.port)
    try:
        connection.putrequest("PUT", f"{target.path}?{target.query}" if target.query
                              else target.path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        try:
            done = 0
            while done < length:
                step = connection.sock.sendfile(file, offset + done,
                                                min(SENDFILE_STEP, length - done))
                if not step:
                    raise EOFError("the file got shorter while it was being sent")
                done += step
                sent(step)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered before reading it all: its answer says why
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode(errors="replace"))
    except http.client.HTTPException as exc:
        connection.close()
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
    except BaseException:
        connection.close()  # mid-request: the next PUT starts on a new connection
        raise


def _proxied(host: str | None) -> bool:
    """Whether the environment sends http requests to `host` through a proxy."""
    return "http" in urllib.request.getproxies() and not urllib.request.proxy_bypass(host or "")


def _connection(host: str, port: int | None) -> http.client.HTTPConnection:
    """This thread's connection to `host:port`; it reconnects by itself once closed. An idle
    kept-alive socket with something to read has been closed by the server (it sends nothing
    unasked): it is dropped here rather than failing the next PUT."""
    connections = _mine.__dict__.setdefault("connections", {})
    if (host, port) not in connections:
        connections[host, port] = http.client.HTTPConnection(host, port,
                                                             timeout=TIMEOUT_SECONDS)
    connection = connections[host, port]
    if connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
        connection.close()
    return connection


def _session() -> requests.Session:
    if not hasattr(_mine, "session"):
        _mine.session = requests.Session()
    return _mine.session


class _Blocks:
    """A file range read a block at a time into this thread's one buffer (the socket has
    taken a block before the next is read). It has a length, so requests sends a
    Content-Length, never chunked encoding."""

    def __init__(self, fd: int, offset: int, length: int, sent: Callable[[int], None]) -> None:
        self.fd, self.offset, self.length, self.sent = fd, offset, length, sent

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[memoryview]:
        if not hasattr(_mine, "block"):
            _mine.block = bytearray(BLOCK)
        block = memoryview(_mine.block)
        done = 0
        while done < self.length:
            wanted = block[:min(BLOCK, self.length - done)]
            read = os.preadv(self.fd, [wanted], self.offset + done)
            if not read:
                raise EOFError("the file got shorter while it was being sent")
            done += read
            self.sent(read)
            yield wanted[:read]
