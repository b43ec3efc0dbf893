"""Which URLs web-download may fetch: scheme, port, host lists, and only public addresses
(the SSRF guard). Pure: names are resolved through a function the caller passes in."""
from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

from chalicelib.domain.errors import ImportRefused
from chalicelib.domain.uploads import GIB

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> every address the name resolves to, as strings.
Resolver = Callable[[str, int], Iterable[str]]

SUPPORTED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 URIs are printable ASCII; anything else is where parsers start to disagree.
_URI_CHARS = re.compile(r"^[\x21-\x7e]+$")
_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
# WHATWG URL: a host whose last label is a number is an IPv4 address, in whatever base.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
# NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IPv4-compatible IPv6 (deprecated by RFC 4291), still routed as IPv4 by some stacks.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Glance's `import_filtering_opts` plus limits. `allowed_hosts` narrows (empty: any
    public host); `trusted_networks` is the only way to reach a non-public address."""

    allowed_schemes: frozenset[str] = frozenset({"http", "https"})
    allowed_ports: frozenset[int] = frozenset({80, 443})
    allowed_hosts: frozenset[str] = frozenset()
    denied_hosts: frozenset[str] = frozenset()
    trusted_networks: tuple[IPNetwork, ...] = ()
    max_bytes: int = 50 * GIB
    timeout_seconds: float = 600.0
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the policy, and the checked addresses it may be fetched from."""

    url: str
    scheme: str
    host: str
    port: int
    request_path: str
    addresses: tuple[IPAddress, ...]


def validate_uri(url: str, policy: FetchPolicy) -> None:
    """Every check that needs no DNS: for the API to answer 400 at once.

    Raises:
        ImportRefused: the URI is malformed or not allowed.
    """
    _parse(url, policy)


def check_url(url: str, policy: FetchPolicy, resolve: Resolver) -> Target:
    """Parse `url`, resolve its host once and check every address; fetch only from these.

    Raises:
        ImportRefused: the URI is malformed, not allowed, or its host has any address that
            is not public (or cannot be resolved).
    """
    parts, host, port, literal = _parse(url, policy)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        try:
            resolved = [ipaddress.ip_address(a) for a in resolve(host, port)]
        except (OSError, ValueError) as exc:
            raise _refused(f"the host {host} could not be resolved") from exc
        addresses = tuple(dict.fromkeys(_unmapped(a) for a in resolved))
        if not addresses:
            raise _refused(f"the host {host} could not be resolved")
    for address in addresses:
        # All of them, not the first: the connection may go to any, and a resolver that
        # mixes one private address into a public answer is the oldest SSRF trick.
        if not _reachable(address, policy):
            log.warning("web-download refused a non-public address",
                        extra={"host": host, "address": str(address)})
            raise _refused(f"the host {host} is not a public address")
    request_path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=parts.scheme, host=host, port=port,
                  request_path=request_path, addresses=addresses)


def check_redirect(source: Target, location: str, policy: FetchPolicy,
                   resolve: Resolver) -> Target:
    """Check where a redirect from `source` leads, exactly as the first URL was checked.

    Raises:
        ImportRefused: the new URI is not allowed, or it downgrades https to http.
    """
    target = check_url(urljoin(source.url, location), policy, resolve)
    if source.scheme == "https" and target.scheme != "https":
        raise _refused("a redirect from https to http")
    return target


def is_public(address: IPAddress) -> bool:
    """True for a globally routable unicast address, judged by the IPv4 address it wraps."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:  # fec0::/10, deprecated but global by Python's table
            return False
    # is_global alone lets multicast and (on some Pythons) reserved ranges through.
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _parse(url: str, policy: FetchPolicy) -> tuple[SplitResult, str, int, IPAddress | None]:
    """(parts, normalised host, port, the address if the host is an IP literal)."""
    if not _URI_CHARS.match(url) or "\\" in url:
        raise _refused("it must be printable ASCII without spaces or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refused("it is not a valid URI") from exc
    schemes = policy.allowed_schemes & SUPPORTED_SCHEMES
    if parts.scheme not in schemes:
        raise _refused(f"the scheme must be one of {', '.join(sorted(schemes))}")
    if "@" in parts.netloc:
        raise _refused("it must not carry credentials")
    port = _DEFAULT_PORTS[parts.scheme] if port is None else port
    if port not in policy.allowed_ports:
        raise _refused(f"port {port} is not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _refused("it has no host")
    literal = _ip_literal(host)
    if host in policy.denied_hosts or (policy.allowed_hosts and host not in policy.allowed_hosts):
        raise _refused(f"the host {host} is not allowed")
    if literal is not None and not _reachable(literal, policy):
        raise _refused(f"the host {host} is not a public address")
    return parts, host, port, literal


def _ip_literal(host: str) -> IPAddress | None:
    """The address if `host` is an IP literal, None if it is a name."""
    if ":" in host:
        if "%" in host:
            raise _refused("IPv6 zone identifiers are not allowed")
        try:
            return _unmapped(ipaddress.IPv6Address(host))
        except ValueError as exc:
            raise _refused("it has an invalid IPv6 address") from exc
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # Resolvers read 2130706433, 0x7f.1 or 0177.0.0.1 as 127.0.0.1; only the one
        # unambiguous spelling is accepted, so every later check sees the real address.
        try:
            return ipaddress.IPv4Address(host)
        except ValueError as exc:
            raise _refused("IPv4 addresses must be written as four decimal numbers") from exc
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _refused("its host name is not valid")
    return None


def _reachable(address: IPAddress, policy: FetchPolicy) -> bool:
    return is_public(address) or any(address in net for net in policy.trusted_networks)


def _unmapped(address: IPAddress) -> IPAddress:
    """::ffff:a.b.c.d is a.b.c.d: check it and connect to it as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that a 6to4, NAT64 or IPv4-compatible address leads to."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _refused(reason: str) -> ImportRefused:
    return ImportRefused(f"The import URI is not allowed: {reason}.")
