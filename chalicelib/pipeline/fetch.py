"""web-download's HTTP client: fetch only from addresses the policy checked, follow only
redirects it allows, stop at a size cap and at a hard deadline."""
from __future__ import annotations

import functools
import hashlib
import http.client
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from chalicelib.domain.errors import FetchFailed, ImageRejected, Invalid
from chalicelib.domain.uploads import MIB
from chalicelib.pipeline.fetch_policy import (FetchPolicy, Resolver, Target, check_redirect,
                                              check_url)

log = logging.getLogger(__name__)

CHUNK_SIZE = MIB
# (address, port), timeout -> a connected socket; socket.create_connection's shape.
OpenConnection = Callable[[tuple[str, int], float], socket.socket]
DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_HEX = re.compile(r"^[0-9a-f]+$")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {"User-Agent": "glint-web-download", "Accept": "*/*"}


def system_resolve(host: str, port: int) -> list[str]:
    """Every TCP address the system resolver gives for `host`."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Transport:
    """How a fetch reaches the network; tests pass a stub resolver and a spy connector."""

    resolve: Resolver = system_resolve
    open_connection: OpenConnection = socket.create_connection
    tls: ssl.SSLContext | None = None  # None: the system's trust store


@dataclass(frozen=True, slots=True)
class ExpectedDigest:
    """A digest declared for the data (validation_data style); see `expected_digest`."""

    algorithm: str
    value: str


def expected_digest(algorithm: str, value: str) -> ExpectedDigest:
    """A declared digest, checked for a known algorithm and a well-formed hex value.

    Raises:
        Invalid: unknown algorithm, or not hexadecimal of that algorithm's length.
    """
    length = DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise Invalid(f"Hash algorithm must be one of {', '.join(DIGEST_LENGTHS)}.")
    normalised = value.lower() if isinstance(value, str) else ""
    if len(normalised) != length or not _HEX.match(normalised):
        raise Invalid(f"A {algorithm} hash value is {length} hexadecimal digits.")
    return ExpectedDigest(algorithm, normalised)


def fetch(url: str, policy: FetchPolicy, transport: Transport = Transport()) -> Iterator[bytes]:
    """Check `url` now, then (lazily) stream its body in chunks of at most CHUNK_SIZE.

    Raises:
        ImportRefused: the URL is not allowed (at once), or a redirect target is not
            (while streaming, before connecting to it).
        FetchFailed: while streaming: an HTTP error, a network error, too many redirects,
            more than `policy.max_bytes`, or longer than `policy.timeout_seconds`.
    """
    target = check_url(url, policy, transport.resolve)
    return _stream(target, policy, transport)


def verified(chunks: Iterable[bytes], expected: ExpectedDigest) -> Iterator[bytes]:
    """Pass the chunks through and check their digest before the consumer sees the end.

    Raises:
        ImageRejected: the data's digest is not the expected one.
    """
    hasher = hashlib.new(expected.algorithm, usedforsecurity=False)
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk
    if hasher.hexdigest() != expected.value:
        raise ImageRejected(f"Import rejected: the data's {expected.algorithm} is "
                            f"{hasher.hexdigest()}, but {expected.value} was declared.")


def _stream(target: Target, policy: FetchPolicy, transport: Transport) -> Iterator[bytes]:
    deadline = _Deadline(time.monotonic() + policy.timeout_seconds, policy.timeout_seconds)
    for _ in range(policy.max_redirects + 1):
        with _exchange(target, deadline, transport) as response:
            if response.status not in _REDIRECTS:
                yield from _body(response, policy.max_bytes)
                return
            location = response.getheader("Location")
        if not location:
            raise FetchFailed(f"{target.host} answered a redirect without a Location.")
        target = check_redirect(target, location, policy, transport.resolve)
        log.info("web-download redirected", extra={"host": target.host})
    raise FetchFailed(f"The import source redirected more than {policy.max_redirects} times.")


def _body(response: http.client.HTTPResponse, max_bytes: int) -> Iterator[bytes]:
    if response.status != 200:
        raise FetchFailed(f"The import source answered {response.status} {response.reason}.")
    declared = response.length  # Content-Length; None when chunked or absent
    if declared is not None and declared > max_bytes:
        raise _too_large(max_bytes)
    size = 0
    # One byte past the cap is enough to know the body is too large.
    while chunk := response.read(min(CHUNK_SIZE, max_bytes - size + 1)):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        yield chunk
    # http.client's read(amt) ends quietly when the peer closes early; a short body is no body.
    if declared is not None and size != declared:
        raise FetchFailed(f"The import source closed the connection after {size} of "
                          f"{declared} bytes.")


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float  # time.monotonic()
    seconds: float

    def remaining(self) -> float:
        """Seconds left; FetchFailed once none are.

        Raises:
            FetchFailed: the deadline has passed.
        """
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.expired()
        return left

    def expired(self) -> FetchFailed:
        return FetchFailed(f"The import source was not read within {self.seconds:g} seconds.")


@contextmanager
def _exchange(target: Target, deadline: _Deadline,
              transport: Transport) -> Iterator[http.client.HTTPResponse]:
    """One GET to a checked target, cut off at the deadline; I/O errors become FetchFailed.

    Raises:
        FetchFailed: connection, TLS or HTTP protocol error, or the deadline passed.
    """
    remaining = deadline.remaining()
    connection = _PinnedConnection(target, remaining, transport)
    watchdog = _Watchdog(connection, remaining)
    try:
        connection.connect()
        connection.request("GET", target.request_path, headers=_HEADERS)
        yield connection.getresponse()
    except (OSError, http.client.HTTPException, FetchFailed) as exc:
        # Once the watchdog has cut the connection, whatever broke next broke because of it.
        if watchdog.fired.is_set() or isinstance(exc, TimeoutError):
            raise deadline.expired() from exc
        if isinstance(exc, FetchFailed):
            raise
        raise FetchFailed(f"Could not download from {target.host}: {exc}") from exc
    finally:
        watchdog.cancel()
        connection.close()
    # A body that ends at connection close looks complete when the watchdog cut it short.
    if watchdog.fired.is_set():
        raise deadline.expired()


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP or HTTPS to the checked addresses only; the Host header, SNI and certificate
    name stay the URL's host whatever a resolver would answer now (no DNS rebinding)."""

    def __init__(self, target: Target, timeout: float, transport: Transport) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        # http.client leaves the port out of Host when it is the scheme's default.
        self.default_port = 443 if target.scheme == "https" else 80
        self._target = target
        self._transport = transport

    def connect(self) -> None:
        """Connect to the first checked address that answers (TLS for https).

        Raises:
            OSError: no checked address accepted the connection, or TLS failed.
        """
        error: OSError | None = None
        for address in self._target.addresses:
            try:
                # Assigned before the TLS handshake so that the watchdog can cut it short.
                self.sock = self._transport.open_connection((str(address), self.port),
                                                            self.timeout)
                break
            except OSError as exc:
                error = exc
        else:
            assert error is not None  # a Target always has at least one address
            raise error
        if self._target.scheme == "https":
            tls = self._transport.tls or _default_tls()
            self.sock = tls.wrap_socket(self.sock, server_hostname=self.host)


class _Watchdog:
    """Shuts the connection's socket down at the deadline. Socket timeouts bound each read
    only, so a server trickling a byte at a time would otherwise hold a fetch for ever."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.fired = threading.Event()
        self._connection = connection
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        """Stop the timer (the exchange is over)."""
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired.set()
        sock = self._connection.sock
        if sock is None:
            return
        try:
            # The plain socket's shutdown, also under TLS: it wakes the blocked reader
            # without tearing the SSL object out from under it.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # closed meanwhile: nothing left to cut


@functools.cache
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def _too_large(max_bytes: int) -> FetchFailed:
    return FetchFailed(f"The import source is larger than the limit of {max_bytes} bytes.")
