"""The test process's loopback guard refuses before any packet leaves."""
from __future__ import annotations

import socket

import pytest

from tests import loopback_guard


@pytest.fixture()
def no_real_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The real resolver and connect, replaced by recorders: a refusal must not reach them."""
    calls: list[object] = []
    monkeypatch.setattr(loopback_guard, "_real_getaddrinfo", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(loopback_guard, "_real_connect", lambda *a: calls.append(a))
    monkeypatch.setattr(loopback_guard, "_real_connect_ex", lambda *a: calls.append(a) or 0)
    return calls


@pytest.mark.parametrize("name", ["example.com", "metadata.google.internal", b"s3.amazonaws.com"])
def test_names_other_than_localhost_are_never_resolved(no_real_calls: list[object],
                                                       name: str | bytes) -> None:
    with pytest.raises(socket.gaierror, match="loopback guard"):
        socket.getaddrinfo(name, 80)
    assert no_real_calls == []


@pytest.mark.parametrize("address", [("192.0.2.1", 80), ("169.254.169.254", 80),
                                     ("10.0.0.1", 443)])
def test_sockets_never_connect_past_loopback(no_real_calls: list[object],
                                             address: tuple[str, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(loopback_guard.NonLoopbackTraffic):
            sock.connect(address)
        with pytest.raises(loopback_guard.NonLoopbackTraffic):
            sock.connect_ex(address)
    assert no_real_calls == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_passes_through(no_real_calls: list[object], host: str) -> None:
    socket.getaddrinfo(host, 80)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.connect((host, 80))
    assert len(no_real_calls) == 2


def test_guard_is_installed_for_the_whole_test_process() -> None:
    assert socket.getaddrinfo is loopback_guard._getaddrinfo  # noqa: SLF001
    assert socket.socket.connect is loopback_guard._connect  # noqa: SLF001
