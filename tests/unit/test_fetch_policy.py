"""The SSRF guard of web-download: which URLs are refused, and proof that a refusal comes
before any connection. Names resolve through a stub; connections are in-memory socket pairs,
so nothing here reaches DNS or any network."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from chalicelib.domain.errors import FetchFailed, ImportRefused
from chalicelib.pipeline.fetch import Transport, fetch
from chalicelib.pipeline.fetch_policy import (FetchPolicy, check_redirect, check_url,
                                              is_public, validate_uri)

PUBLIC = "93.184.216.34"
DNS = {
    "public.test": [PUBLIC],
    "public6.test": ["2606:4700::1111"],
    "localhost": ["127.0.0.1", "::1"],
    "metadata.test": ["169.254.169.254"],
    "private.test": ["10.0.0.5"],
    "mixed.test": [PUBLIC, "10.0.0.5"],  # one private address among public ones
    "mixed6.test": ["2606:4700::1111", "fd00::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "nat64.test": ["64:ff9b::a9fe:a9fe"],  # NAT64 of 169.254.169.254
    "sixtofour.test": ["2002:a00:1::1"],  # 6to4 of 10.0.0.1
    "teredo.test": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "linklocal6.test": ["fe80::1%eth0"],
    "nowhere.test": [],
}


def stub_resolve(host: str, port: int) -> list[str]:
    """The test DNS; a name outside it fails the test instead of reaching real DNS."""
    if host not in DNS:
        raise AssertionError(f"{host!r} would have been resolved by the real DNS")
    return DNS[host]


class FakeNetwork:
    """Connections answered from memory: records every address fetch connected to and
    what it sent. Nothing leaves the process."""

    def __init__(self, *responses: bytes) -> None:
        self.responses = list(responses)
        self.calls: list[tuple[str, int]] = []
        self.peers: list[socket.socket] = []

    def open_connection(self, address: tuple[str, int], timeout: float) -> socket.socket:
        self.calls.append(address)
        ours, theirs = socket.socketpair()
        theirs.sendall(self.responses.pop(0))
        theirs.shutdown(socket.SHUT_WR)
        self.peers.append(theirs)
        return ours

    def sent(self, index: int = 0) -> bytes:
        return self.peers[index].recv(65536)

    def close(self) -> None:
        for peer in self.peers:
            peer.close()


@pytest.fixture()
def net() -> Iterator[FakeNetwork]:
    network = FakeNetwork()
    yield network
    network.close()


def transport(net: FakeNetwork, resolve=stub_resolve) -> Transport:
    return Transport(resolve=resolve, open_connection=net.open_connection)


def ok(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def redirect(location: str) -> bytes:
    return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


REFUSED = {
    "scheme must be": ["ftp://public.test/image", "file:///etc/passwd",
                       "gopher://public.test:70/"],
    "port": ["http://public.test:8080/", "https://public.test:22/", "http://public.test:0/"],
    "not a valid URI": ["http://public.test:99999/", "http://[::1/"],
    "credentials": ["http://user:pw@public.test/", "http://public.test@127.0.0.1/"],
    "printable ASCII": ["http://public.test\\@127.0.0.1/", "http://public.test /",
                        "http://\u2113ocalhost/", "http://public.test/\r\nX-Injected: 1"],
    "no host": ["http:///image"],
    "host name is not valid": ["http://exa%6dple.test/", "http://-bad.test/"],
    # the encodings that resolvers read as 127.0.0.1 (or 0.0.0.0)
    "four decimal numbers": ["http://127.1/", "http://2130706433/", "http://0x7f000001/",
                             "http://0177.0.0.1/", "http://0x7f.0.0.1/",
                             "http://017700000001/", "http://0/", "http://1.2.3.4.5/"],
    "zone identifiers": ["http://[fe80::1%25eth0]/"],
    "not a public address": [
        "http://127.0.0.1/", "http://127.0.0.1./", "http://0.0.0.0/", "http://10.0.0.1/",
        "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/",
        "http://169.254.169.254/latest/meta-data/", "http://192.0.0.170/",
        "http://198.18.0.1/", "http://224.0.0.1/", "http://239.255.255.250/",
        "http://240.0.0.1/", "http://255.255.255.255/",
        # IPv6 literals, including those that wrap an IPv4 address
        "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
        "http://[::ffff:a9fe:a9fe]/", "http://[::127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "http://[fe80::1]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/",
        "http://[fec0::1]/", "http://[ff02::1]/", "http://[ff0e::1]/", "http://[2001:db8::1]/",
        # names that resolve (through the stub) to anything but public addresses only
        "http://localhost/", "http://LOCALHOST./", "http://metadata.test/",
        "http://private.test/", "http://mixed.test/", "http://mixed6.test/",
        "http://mapped.test/", "http://nat64.test/", "http://sixtofour.test/",
        "http://teredo.test/", "http://linklocal6.test/"],
    "could not be resolved": ["http://nowhere.test/"],
}


@pytest.mark.parametrize("url,reason", [(u, r) for r, urls in REFUSED.items() for u in urls])
def test_fetch_refuses_before_connecting(url, reason, net):
    with pytest.raises(ImportRefused) as refused:
        fetch(url, FetchPolicy(), transport(net))
    assert refused.value.message.startswith("The import URI is not allowed")
    assert reason in refused.value.message
    assert net.calls == []


@pytest.mark.parametrize("url,policy", [
    ("http://public.test/", FetchPolicy(denied_hosts=frozenset({"public.test"}))),
    ("http://public.test/", FetchPolicy(allowed_hosts=frozenset({"mirror.test"}))),
    ("http://public.test/", FetchPolicy(allowed_schemes=frozenset({"https"}))),
    ("https://public.test/", FetchPolicy(allowed_ports=frozenset({80}))),
    # A scheme the fetcher cannot speak stays refused even if configured.
    ("ftp://public.test:21/", FetchPolicy(allowed_schemes=frozenset({"ftp"}),
                                          allowed_ports=frozenset({21}))),
    # Trust is for the listed networks only.
    ("http://127.0.0.2/", FetchPolicy(trusted_networks=(ipaddress.ip_network("127.0.0.1/32"),))),
])
def test_operator_lists_refuse(url, policy, net):
    with pytest.raises(ImportRefused):
        fetch(url, policy, transport(net))
    assert net.calls == []


@pytest.mark.parametrize("url,host,port,path,addresses", [
    ("http://public.test/a/b?c=d#frag", "public.test", 80, "/a/b?c=d", [PUBLIC]),
    ("https://PUBLIC.test./", "public.test", 443, "/", [PUBLIC]),
    ("http://public6.test", "public6.test", 80, "/", ["2606:4700::1111"]),
    ("http://8.8.8.8/x", "8.8.8.8", 80, "/x", ["8.8.8.8"]),
    ("http://[2606:4700::1111]/", "2606:4700::1111", 80, "/", ["2606:4700::1111"]),
    ("http://[::ffff:8.8.8.8]/", "::ffff:8.8.8.8", 80, "/", ["8.8.8.8"]),
    # NAT64 and 6to4 of a public IPv4 address reach that address: allowed.
    ("http://[64:ff9b::808:808]/", "64:ff9b::808:808", 80, "/", ["64:ff9b::808:808"]),
])
def test_allowed_urls_keep_their_host_and_checked_addresses(url, host, port, path, addresses):
    target = check_url(url, FetchPolicy(), stub_resolve)
    assert (target.host, target.port, target.request_path) == (host, port, path)
    assert [str(a) for a in target.addresses] == addresses


def test_trusted_network_is_the_only_way_to_a_private_address():
    policy = FetchPolicy(trusted_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    assert [str(a) for a in check_url("http://private.test/", policy, stub_resolve)
            .addresses] == ["10.0.0.5"]
    with pytest.raises(ImportRefused):
        check_url("http://localhost/", policy, stub_resolve)


def test_validate_uri_needs_no_dns():
    validate_uri("https://any-name.example/image.qcow2", FetchPolicy())
    with pytest.raises(ImportRefused):
        validate_uri("http://0x7f.1/", FetchPolicy())


@pytest.mark.parametrize("address,public", [
    ("8.8.8.8", True), ("2606:4700::1111", True), ("64:ff9b::808:808", True),
    ("2002:808:808::1", True), ("127.0.0.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("224.0.0.1", False), ("ff0e::1", False), ("fec0::1", False),
    ("::8.8.8.8", True), ("64:ff9b::7f00:1", False), ("2002:7f00:1::", False),
    ("64:ff9b:1::808:808", False),
])
def test_is_public_judges_wrapped_ipv4(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


def test_rebinding_resolver_cannot_move_the_connection(net):
    answers = iter([[PUBLIC], ["127.0.0.1"]])  # public at check time, loopback afterwards
    resolved: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        resolved.append(host)
        return next(answers)

    net.responses = [ok(b"image bytes")]
    body = b"".join(fetch("http://rebind.test/disk.img", FetchPolicy(), transport(net, rebinding)))
    assert body == b"image bytes"
    assert resolved == ["rebind.test"]  # resolved once, and the connection used that answer
    assert net.calls == [(PUBLIC, 80)]
    request = net.sent()
    assert request.startswith(b"GET /disk.img HTTP/1.1\r\n")
    assert b"\r\nHost: rebind.test\r\n" in request


@pytest.mark.parametrize("location", [
    "http://169.254.169.254/latest/meta-data/iam/", "http://localhost/", "//127.0.0.1/",
    "http://2130706433/", "http://[::ffff:169.254.169.254]/", "http://mixed.test/",
    "http://public.test:8080/", "file:///etc/passwd", "http://nat64.test/",
])
def test_redirect_to_refused_target_is_refused_before_connecting(location, net):
    net.responses = [redirect(location)]
    with pytest.raises(ImportRefused):
        list(fetch("http://public.test/image", FetchPolicy(), transport(net)))
    assert net.calls == [(PUBLIC, 80)]  # the first hop only


def test_relative_redirect_is_resolved_against_the_current_url(net):
    net.responses = [redirect("/real/image?x=1"), ok(b"data")]
    assert b"".join(fetch("http://public.test/a/b", FetchPolicy(), transport(net))) == b"data"
    assert net.calls == [(PUBLIC, 80), (PUBLIC, 80)]
    assert net.sent(1).startswith(b"GET /real/image?x=1 HTTP/1.1\r\n")


def test_redirects_beyond_the_limit_fail(net):
    net.responses = [redirect("/again")] * 3
    with pytest.raises(FetchFailed, match="more than 2"):
        list(fetch("http://public.test/", FetchPolicy(max_redirects=2), transport(net)))
    assert len(net.calls) == 3


def test_https_to_http_redirect_is_a_downgrade():
    source = check_url("https://public.test/image", FetchPolicy(), stub_resolve)
    with pytest.raises(ImportRefused, match="https to http"):
        check_redirect(source, "http://public.test/image", FetchPolicy(), stub_resolve)
    assert check_redirect(source, "/other", FetchPolicy(), stub_resolve).url == \
        "https://public.test/other"


def test_connection_falls_back_to_the_next_checked_address():
    both = {"two.test": ["8.8.8.8", "8.8.4.4"]}
    calls: list[tuple[str, int]] = []
    net = FakeNetwork(ok(b"x"))

    def first_fails(address: tuple[str, int], timeout: float) -> socket.socket:
        if address[0] == "8.8.8.8":
            calls.append(address)
            raise ConnectionRefusedError("refused")
        return net.open_connection(address, timeout)

    fetched = fetch("http://two.test/", FetchPolicy(),
                    Transport(resolve=lambda h, p: both[h], open_connection=first_fails))
    assert b"".join(fetched) == b"x"
    assert calls == [("8.8.8.8", 80)] and net.calls == [("8.8.4.4", 80)]
    net.close()


@pytest.mark.parametrize("response,message", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", "after 10 of 100 bytes"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n",
     "IncompleteRead"),
])
def test_a_body_cut_short_fails(response, message, net):
    net.responses = [response]
    with pytest.raises(FetchFailed, match=message):
        list(fetch("http://public.test/", FetchPolicy(), transport(net)))
