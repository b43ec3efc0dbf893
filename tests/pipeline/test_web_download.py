"""web-download against a real HTTP(S) server on 127.0.0.1, then into moto's S3.

Loopback is reachable only because each policy here trusts 127.0.0.1/32 explicitly; every
connection goes through `loopback_only`, which fails the test before any other address is
dialled, and names resolve through a stub, never through the real DNS."""
from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.domain.errors import FetchFailed, ImageRejected, ImportRefused
from chalicelib.pipeline.fetch import Transport, expected_digest, fetch, verified
from chalicelib.pipeline.fetch_policy import FetchPolicy
from chalicelib.pipeline.web_download import download_to_staging, policy_from_settings
from tests.tls import self_signed

MIB = 1024 * 1024
DATA = os.urandom(11 * MIB + 3)
NAMES = {"files.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        route, _, arg = self.path.lstrip("/").partition("/")
        getattr(self, f"_{route.replace('-', '_')}")(arg)

    def _data(self, _arg: str) -> None:
        self._answer(200, DATA)

    def _host(self, _arg: str) -> None:
        self._answer(200, self.headers["Host"].encode())

    def _hop(self, arg: str) -> None:
        left = int(arg)
        self._redirect("/data/" if left <= 1 else f"/hop/{left - 1}")

    def _to(self, arg: str) -> None:
        self._redirect(arg)

    def _status(self, arg: str) -> None:
        self._answer(int(arg), b"nope")

    def _declared_big(self, arg: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", arg)
        self.end_headers()

    def _endless(self, _arg: str) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        for _ in range(64):  # 4 MiB, far past the caps the tests set
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _trickle(self, _arg: str) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "60")
        self.end_headers()
        self._drip(b"x" * 60)

    def _trickle_until_close(self, _arg: str) -> None:
        # No length: the body ends when the connection does, so a cut looks like an end.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self._drip(b"x" * 60)
        self.close_connection = True

    def _trickle_headers(self, _arg: str) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._drip(b"X-Slow: " + b"y" * 40 + b"\r\nContent-Length: 2\r\n\r\nok")

    def _drip(self, data: bytes) -> None:
        """A byte every 50 ms: each read is quick, the whole is not (about 3 s)."""
        for byte in data:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.05)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, *_args: object) -> None:
        pass  # clients that give up mid-body (as the tests make them) are expected


@dataclass
class Origin:
    """A server on 127.0.0.1, the policy that admits it, and the connections made."""

    base: str
    port: int
    policy: FetchPolicy
    calls: list[tuple[str, int]] = field(default_factory=list)
    tls: ssl.SSLContext | None = None

    def loopback_only(self, address: tuple[str, int], timeout: float) -> socket.socket:
        assert ipaddress.ip_address(address[0]).is_loopback, f"dialled {address}"
        self.calls.append(address)
        return socket.create_connection(address, timeout)

    @property
    def transport(self) -> Transport:
        return Transport(resolve=stub_resolve, open_connection=self.loopback_only, tls=self.tls)

    def fetch(self, path: str, **policy: object) -> bytes:
        return b"".join(fetch(self.base + path, replace(self.policy, **policy), self.transport))


def stub_resolve(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise AssertionError(f"{host!r} would have been resolved by the real DNS")
    return NAMES[host]


def _serve(server: _Server) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _policy(port: int) -> FetchPolicy:
    return FetchPolicy(allowed_ports=frozenset({port}), timeout_seconds=10,
                       trusted_networks=(ipaddress.ip_network("127.0.0.1/32"),))


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    yield from _serve(_Server(("127.0.0.1", 0), _Handler))


@pytest.fixture()
def origin(http_port: int) -> Origin:
    return Origin(f"http://127.0.0.1:{http_port}", http_port, _policy(http_port))


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, ssl.SSLContext]]:
    """An HTTPS server whose certificate names files.test only, and a context trusting it."""
    cert, key = self_signed("files.test", tmp_path_factory.mktemp("tls"))
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for port in _serve(server):
        yield port, ssl.create_default_context(cafile=str(cert))


@pytest.fixture()
def tls_origin(https_server: tuple[int, ssl.SSLContext]) -> Origin:
    port, client_context = https_server
    return Origin(f"https://files.test:{port}", port, _policy(port), tls=client_context)


def test_fetch_streams_the_body_when_loopback_is_trusted_explicitly(origin):
    chunks = list(fetch(f"{origin.base}/data/", origin.policy, origin.transport))
    assert b"".join(chunks) == DATA
    assert max(len(c) for c in chunks) <= MIB
    assert origin.calls == [("127.0.0.1", origin.port)]


def test_loopback_is_refused_by_the_default_policy(origin):
    with pytest.raises(ImportRefused, match="not a public address"):
        fetch(f"{origin.base}/data/", FetchPolicy(allowed_ports=frozenset({origin.port})),
              origin.transport)
    assert origin.calls == []


def test_a_name_is_fetched_from_its_checked_address_with_its_own_host_header(origin):
    body = b"".join(fetch(f"http://files.test:{origin.port}/host/", origin.policy,
                          origin.transport))
    assert body == f"files.test:{origin.port}".encode()
    assert origin.calls == [("127.0.0.1", origin.port)]


def test_redirect_chain_within_the_limit_is_followed(origin):
    assert origin.fetch("/hop/5", max_redirects=5) == DATA
    assert len(origin.calls) == 6


def test_redirect_chain_beyond_the_limit_fails_without_the_extra_hop(origin):
    with pytest.raises(FetchFailed, match="more than 5"):
        origin.fetch("/hop/6", max_redirects=5)
    assert len(origin.calls) == 6


@pytest.mark.parametrize("location", [
    "http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/data/",
    "http://127.1:{port}/data/", "http://2130706433:{port}/data/",
    "http://10.0.0.1:{port}/data/", "http://127.0.0.1:8080/data/", "file:///etc/passwd",
])
def test_redirect_to_a_refused_address_is_refused_before_connecting(origin, location):
    with pytest.raises(ImportRefused):
        origin.fetch("/to/" + location.format(port=origin.port))
    assert origin.calls == [("127.0.0.1", origin.port)]  # the server that redirected


def test_https_pins_the_address_but_verifies_the_certificate_for_the_host(tls_origin):
    assert tls_origin.fetch("/host/") == f"files.test:{tls_origin.port}".encode()
    with pytest.raises(FetchFailed, match="certificate"):
        b"".join(fetch(f"https://other.test:{tls_origin.port}/host/", tls_origin.policy,
                       tls_origin.transport))
    assert tls_origin.calls == [("127.0.0.1", tls_origin.port)] * 2


def test_https_to_http_redirect_is_refused(tls_origin, http_port):
    with pytest.raises(ImportRefused, match="https to http"):
        tls_origin.fetch(f"/to/http://127.0.0.1:{http_port}/data/",
                         allowed_ports=frozenset({tls_origin.port, http_port}))
    assert tls_origin.calls == [("127.0.0.1", tls_origin.port)]


@pytest.mark.parametrize("path", ["/trickle/", "/trickle-until-close/", "/trickle-headers/"])
def test_a_trickling_server_hits_the_deadline(origin, path):
    # Each byte comes well within any socket timeout; only the overall deadline stops it.
    with pytest.raises(FetchFailed, match="within 0.5 seconds"):
        origin.fetch(path, timeout_seconds=0.5)


def test_declared_oversize_is_refused_before_reading(origin):
    with pytest.raises(FetchFailed, match="larger than the limit of 1000 bytes"):
        origin.fetch("/declared-big/1001", max_bytes=1000)


def test_streamed_oversize_stops_at_the_cap(origin):
    received = 0
    with pytest.raises(FetchFailed, match="larger than the limit"):
        for chunk in fetch(f"{origin.base}/endless/", replace(origin.policy, max_bytes=MIB),
                           origin.transport):
            received += len(chunk)
    assert received <= MIB


def test_error_status_fails_the_fetch(origin):
    with pytest.raises(FetchFailed, match="404"):
        origin.fetch("/status/404")


def test_expected_digest_mismatch_is_a_rejection(origin):
    good = expected_digest("sha256", hashlib.sha256(DATA).hexdigest())
    assert b"".join(verified(fetch(f"{origin.base}/data/", origin.policy, origin.transport),
                             good)) == DATA
    bad = expected_digest("md5", hashlib.md5(b"other").hexdigest())
    with pytest.raises(ImageRejected, match="md5"):
        b"".join(verified(fetch(f"{origin.base}/data/", origin.policy, origin.transport), bad))


def _staged(prefix: str) -> tuple[list[str], list[str]]:
    s3, bucket = aws.s3(), get_settings().bucket
    objects = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])
    return [o["Key"] for o in objects], [u["Key"] for u in uploads]


@pytest.fixture()
def small_parts(server_aws, monkeypatch):
    """moto's S3 server, with 5 MiB parts so that DATA takes three."""
    monkeypatch.setenv("GLINT_MULTIPART_PART_SIZE", str(5 * MIB))
    get_settings.cache_clear()
    yield server_aws
    get_settings.cache_clear()


def test_download_to_staging_streams_into_s3_before_the_object_exists(origin, small_parts):
    progress: list[int] = []
    seen_at_completion: list[tuple[int, list[str]]] = []
    staged = download_to_staging(
        "img-1", "up-1", f"{origin.base}/data/", origin.policy,
        expected_digest("sha512", hashlib.sha512(DATA).hexdigest()),
        on_progress=progress.append,
        before_complete=lambda size: seen_at_completion.append((size, _staged("staging/")[0])),
        transport=origin.transport)
    assert staged == ("staging/img-1/up-1", len(DATA))
    assert seen_at_completion == [(len(DATA), [])]  # called before the object existed
    assert progress[-1] == len(DATA)
    s3 = aws.s3()
    head = s3.head_object(Bucket=get_settings().bucket, Key=staged.key)
    assert head["ETag"].endswith('-3"')  # three parts, none holding the whole file
    body = s3.get_object(Bucket=get_settings().bucket, Key=staged.key)["Body"].read()
    assert body == DATA


@pytest.mark.parametrize("path,max_bytes,expected,error", [
    # two parts are already uploaded when the digest turns out wrong
    ("/data/", 64 * MIB, expected_digest("sha256", "0" * 64), ImageRejected),
    ("/endless/", 3 * MIB, None, FetchFailed),
])
def test_failed_download_leaves_nothing_in_staging(origin, small_parts, path, max_bytes,
                                                   expected, error):
    with pytest.raises(error):
        download_to_staging("img-2", "up-1", origin.base + path,
                            replace(origin.policy, max_bytes=max_bytes), expected,
                            transport=origin.transport)
    assert _staged("staging/img-2/") == ([], [])


def test_refused_uri_starts_no_upload(origin, small_parts):
    with pytest.raises(ImportRefused):
        download_to_staging("img-3", "up-1", "http://169.254.169.254/", origin.policy,
                            transport=origin.transport)
    assert _staged("staging/img-3/") == ([], [])
    assert origin.calls == []
    with pytest.raises(ClientError):
        aws.s3().head_object(Bucket=get_settings().bucket, Key="staging/img-3/up-1")


def test_policy_from_settings_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GLINT_WEB_DOWNLOAD_ALLOWED_PORTS", "443,8443")
    monkeypatch.setenv("GLINT_WEB_DOWNLOAD_DENIED_HOSTS", "Evil.Example.")
    monkeypatch.setenv("GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS", "10.1.0.0/16")
    get_settings.cache_clear()
    try:
        policy = policy_from_settings()
    finally:
        get_settings.cache_clear()
    assert policy.allowed_ports == {443, 8443} and policy.denied_hosts == {"evil.example"}
    assert policy.trusted_networks == (ipaddress.ip_network("10.1.0.0/16"),)
    assert FetchPolicy().trusted_networks == ()  # nothing non-public is trusted by default
