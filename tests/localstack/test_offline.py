"""LocalStack listens on loopback only and talks to nothing but loopback (read from /proc)."""
from __future__ import annotations

import hashlib
import ipaddress
import os
from pathlib import Path

import pytest
import requests

from chalicelib.blobs import presign
from tests.localstack.conftest import LocalStack

pytestmark = pytest.mark.localstack

TCP_LISTEN, TCP_ESTABLISHED = "0A", "01"


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/{tcp,udp}[6] writes it: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address.split(":")[0])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from each process's parent in /proc/*/stat (kernels without
    CONFIG_PROC_CHILDREN have no task/*/children)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the parent follows the last ")".
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # exited while we read
            continue
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue.extend(child for child, parent in parents.items() if parent == current)
    return tree


def _sockets(pid: int) -> list[tuple[str, str, ipaddress.IPv4Address | ipaddress.IPv6Address,
                                     ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """(protocol, state, local address, remote address) of every inet socket `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{protocol}").read_text().splitlines()[1:]
        for fields in (line.split() for line in lines):
            if fields[9] in inodes:
                found.append((protocol, fields[3], _address(fields[1]), _address(fields[2])))
    return found


def test_localstack_uses_loopback_only(glint_on_localstack: LocalStack):
    if not Path("/proc/self/net/tcp").exists():
        pytest.skip("needs Linux /proc to list the process's sockets")
    data = os.urandom(1024)
    with requests.Session() as session:  # keeps one connection open while we look
        grant = presign.presign_put("staging/offline/check", len(data),
                                    hashlib.sha256(data).hexdigest(), 60)
        assert session.put(grant.url, data=data, headers=grant.headers, timeout=30).ok
        sockets = [s for pid in _process_tree(glint_on_localstack.process.pid)
                   for s in _sockets(pid)]
    assert any(state == TCP_LISTEN for _, state, _, _ in sockets), sockets
    assert any(state == TCP_ESTABLISHED for _, state, _, _ in sockets), sockets
    for protocol, state, local, remote in sockets:
        assert local.is_loopback, (protocol, state, local, remote)
        if not remote.is_unspecified:
            assert remote.is_loopback, (protocol, state, local, remote)
