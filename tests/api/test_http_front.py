"""The local HTTP front over real sockets: kept-alive connections get each response in one
send (no Nagle/delayed-ACK stall), connections are served concurrently, and only the version
document ends its connection."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
from chalice.config import Config

from glint_local import http_front
from tests.conftest import PROJECT

_CONFIG = json.loads((PROJECT / ".chalice" / "config.json").read_text())


@pytest.fixture()
def front(inprocess_aws) -> Iterator[tuple[str, int]]:
    from app import app
    server = http_front.serve(app, Config.create(chalice_stage="local", config_from_disk=_CONFIG),
                              "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server.server.server_address[:2]
    server.server.shutdown()
    server.server.server_close()


def _request(path: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: glint\r\nX-Project-Id: admin\r\nX-Roles: admin\r\n"
            "\r\n").encode()


# A cheap document that keeps its connection alive (the version document closes it).
_KEPT = "/v2/schemas/image"


def _split(response: bytes) -> tuple[bytes, int, bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return head, length, body


def test_kept_alive_responses_arrive_in_one_send(front):
    with socket.create_connection(front, timeout=5) as sock:
        for _ in range(3):  # the same connection, again and again
            sock.sendall(_request(_KEPT))
            # One recv: a server that sends headers and body apart hands back the head only.
            head, length, body = _split(sock.recv(1 << 16))
            assert head.startswith(b"HTTP/1.1 200"), head
            assert length > 0 and len(body) == length
            assert json.loads(body)["name"] == "image"


def test_one_connection_serves_many_requests(front):
    # More requests than Python's recursion limit allows frames: nothing may nest per request.
    with socket.create_connection(front, timeout=5) as sock, sock.makefile("rb") as answers:
        for _ in range(400):
            sock.sendall(_request(_KEPT))
            assert answers.readline().startswith(b"HTTP/1.1 200")
            length = 0
            while (line := answers.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            assert json.loads(answers.read(length))["name"] == "image"


def test_connections_are_served_concurrently(front):
    idle = socket.create_connection(front, timeout=5)  # a client that holds its connection
    try:
        idle.sendall(b"GET /versions HTTP/1.1\r\n")  # ... and is mid-request
        with socket.create_connection(front, timeout=5) as other:
            other.sendall(_request("/versions"))
            head, length, body = _split(other.recv(1 << 16))
            assert head.startswith(b"HTTP/1.1 200") and len(body) == length
    finally:
        idle.close()


@pytest.mark.parametrize("path", ["/", "/versions"])
def test_the_version_document_ends_its_connection(front, path):
    # openstack reads fd 0 as stdin when it is open: a kept-alive discovery socket, opened
    # while stdin is closed (`<&-`), would be taken for image data.
    with socket.create_connection(front, timeout=5) as sock, sock.makefile("rb") as answers:
        sock.sendall(_request(path))
        response = answers.read()  # to EOF: the server closed the connection
    head, length, body = _split(response)
    assert b"\r\nconnection: close\r\n" in head.lower() + b"\r\n"
    assert len(body) == length and json.loads(body)["versions"]
