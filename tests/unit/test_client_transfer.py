"""How the upload client PUTs a range of a file (`glint_client.transfer`), against loopback
stand-ins for S3: by sendfile over one kept-alive connection per thread on http, block by
block through requests over https (a real TLS server, as S3 is) or through a proxy; the
server's answer read even when it came before the body was all taken (an expired URL); a
shorter file and a stop end the PUT cleanly."""
from __future__ import annotations

import os
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from glint_client import transfer
from tests.tls import self_signed


class _KeepAliveS3(BaseHTTPRequestHandler):
    """Takes PUTs over HTTP/1.1 keep-alive and notes (client port, path, headers, body) of
    each whole one (as S3, it keeps nothing of a PUT whose body was cut short)."""

    protocol_version = "HTTP/1.1"

    def do_PUT(self) -> None:  # noqa: N802 - the handler's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if len(body) < int(self.headers["Content-Length"]):
            self.close_connection = True
            return
        self.server.seen.append(  # type: ignore[attr-defined]
            (self.client_address[1], self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("ETag", f'"{len(body)}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


class _HangsUpAfterEachPut(_KeepAliveS3):
    """Answers as if keeping the connection alive, then closes it (an idle timeout)."""

    def do_PUT(self) -> None:  # noqa: N802 - the handler's naming
        super().do_PUT()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hangs up mid-PUT is what some tests do."""


@contextmanager
def _s3(tls: ssl.SSLContext | None = None,
        handler: type[_KeepAliveS3] = _KeepAliveS3) -> Iterator[tuple[str, list]]:
    """The stand-in's base URL (https with `tls`) and what it was sent."""
    server = _Server(("127.0.0.1", 0), handler)
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    port = server.server_address[1]
    try:
        yield (f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}",
               server.seen)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    return path


@pytest.fixture(autouse=True)
def _fresh_connections() -> Iterator[None]:
    transfer._mine.__dict__.clear()
    yield
    transfer._mine.__dict__.clear()


@pytest.fixture
def tls(tmp_path: Path, monkeypatch) -> ssl.SSLContext:
    """A server context for localhost, its certificate trusted by requests."""
    cert, key = self_signed("localhost", tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def sendfile_calls(monkeypatch) -> list[int]:
    """The byte counts os.sendfile sent (socket.sendfile calls it)."""
    calls: list[int] = []
    real = os.sendfile

    def counted(out_fd: int, in_fd: int, offset: int, count: int) -> int:
        sent = real(out_fd, in_fd, offset, count)
        calls.append(sent)
        return sent

    monkeypatch.setattr(os, "sendfile", counted)
    return calls


def test_over_http_ranges_go_by_sendfile_over_one_kept_alive_connection(source, sendfile_calls,
                                                                         monkeypatch):
    monkeypatch.setattr(transfer, "SENDFILE_STEP", 1024 * 1024)
    data = source.read_bytes()
    ranges = [(0, 2 * 1024 * 1024), (2 * 1024 * 1024, 1024 * 1024 + 5), (7, 0)]
    steps: list[int] = []
    with _s3() as (url, seen), open(source, "rb", buffering=0) as file:
        answers = [transfer.put_range(f"{url}/p{n}?X-Amz-Signature=s", {"x-amz-meta-a": "b"},
                                      file, offset, length, steps.append)
                   for n, (offset, length) in enumerate(ranges, start=1)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert [a.headers["etag"] for a in answers] == [f'"{n}"' for _, n in ranges]
    assert [body for *_, body in seen] == [data[o:o + n] for o, n in ranges]
    assert [path for _, path, _, _ in seen] == [f"/p{n}?X-Amz-Signature=s" for n in (1, 2, 3)]
    assert all(h["x-amz-meta-a"] == "b" and h["Content-Length"] == str(len(body))
               for _, _, h, body in seen)
    assert len({port for port, *_ in seen}) == 1  # one connection, kept alive
    assert sum(sendfile_calls) == len(data) and sum(steps) == len(data)
    assert steps == [1024 * 1024] * 3 + [5]  # progress at each step


def test_a_connection_the_server_closed_while_idle_is_replaced(source):
    with _s3(handler=_HangsUpAfterEachPut) as (url, seen), open(source, "rb", buffering=0) as file:
        first = transfer.put_range(f"{url}/p1", {}, file, 0, 10, lambda step: None)
        [kept] = transfer._mine.connections.values()
        select.select([kept.sock], [], [], 5)  # idle until the server's close arrives
        second = transfer.put_range(f"{url}/p2", {}, file, 0, 10, lambda step: None)
    assert (first.status, second.status) == (200, 200)
    assert len({port for port, *_ in seen}) == 2  # a new connection for the second


def test_over_https_ranges_are_read_block_by_block_through_requests(source, sendfile_calls,
                                                                    tls):
    data = source.read_bytes()
    steps: list[int] = []
    with _s3(tls) as (url, seen), open(source, "rb", buffering=0) as file:
        answer = transfer.put_range(f"{url}/p1", {}, file, 5, len(data) - 5, steps.append)
    assert answer.status == 200 and seen[0][3] == data[5:]
    assert seen[0][2]["Content-Length"] == str(len(data) - 5)  # never chunked
    assert sendfile_calls == []
    assert steps == [transfer.BLOCK] * 3  # 3 MiB, read a block at a time


def test_through_an_http_proxy_requests_takes_the_put(source, sendfile_calls, monkeypatch):
    data = source.read_bytes()
    with _s3() as (proxy, seen), open(source, "rb", buffering=0) as file:
        monkeypatch.setenv("http_proxy", proxy)
        monkeypatch.setenv("no_proxy", "")
        answer = transfer.put_range("http://s3.internal:9000/bucket/p1", {}, file, 0,
                                    len(data), lambda step: None)
    assert answer.status == 200 and seen[0][3] == data
    assert seen[0][1] == "http://s3.internal:9000/bucket/p1"  # asked of the proxy
    assert sendfile_calls == []


def _answers_before_reading_the_body(listener: socket.socket) -> None:
    connection, _ = listener.accept()
    with connection:
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(65536)
        connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 17\r\n"
                           b"Connection: close\r\n\r\nRequest has expired")
    # Closed with the body unread: the client's next send is reset.


def test_an_answer_that_comes_before_the_body_is_taken_is_read(tmp_path):
    big = tmp_path / "big.raw"
    big.write_bytes(os.urandom(32 * 1024 * 1024))  # more than the socket buffers hold
    with socket.create_server(("127.0.0.1", 0)) as listener:
        server = threading.Thread(target=_answers_before_reading_the_body, args=(listener,))
        server.start()
        with open(big, "rb", buffering=0) as file:
            answer = transfer.put_range(f"http://127.0.0.1:{listener.getsockname()[1]}/p1",
                                        {}, file, 0, 32 * 1024 * 1024, lambda step: None)
        server.join(timeout=10)
    assert answer.status == 403 and answer.text.startswith("Request has exp")


@pytest.mark.parametrize("over_tls", [False, True], ids=["sendfile", "blocks"])
def test_a_file_shorter_than_the_range_is_an_eof_error(source, tls, over_tls):
    size = source.stat().st_size
    with _s3(tls if over_tls else None) as (url, _), open(source, "rb", buffering=0) as file:
        with pytest.raises(EOFError, match="got shorter"):
            transfer.put_range(f"{url}/p1", {}, file, 0, size + 10, lambda step: None)


def test_what_the_progress_callback_raises_ends_the_put_and_its_connection(source, monkeypatch):
    monkeypatch.setattr(transfer, "SENDFILE_STEP", 1024 * 1024)

    class Stopped(Exception):
        pass

    def stop(step: int) -> None:
        raise Stopped

    with _s3() as (url, seen), open(source, "rb", buffering=0) as file:
        with pytest.raises(Stopped):
            transfer.put_range(f"{url}/p1", {}, file, 0, source.stat().st_size, stop)
        answer = transfer.put_range(f"{url}/p2", {}, file, 0, 10, lambda step: None)
    assert answer.status == 200
    assert [path for _, path, _, _ in seen] == ["/p2"]  # the stopped PUT never completed
