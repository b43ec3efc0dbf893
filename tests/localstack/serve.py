"""Starts LocalStack (run by .venv-localstack's Python 3.13, not by the test process).

LocalStack 2026.3's default (twisted) gateway ignores the host of an IPv4 GATEWAY_LISTEN and
listens on every interface; its hypercorn gateway binds the host but sends response bodies
truncated. So this gives twisted's IPv4 listener an interface, the loopback one, before
starting LocalStack exactly as `python -m localstack.runtime.main` does.
"""
from __future__ import annotations

from typing import Any

from localstack.runtime import main
from twisted.internet import endpoints

LOOPBACK = "127.0.0.1"


class _LoopbackTCP4ServerEndpoint(endpoints.TCP4ServerEndpoint):
    """A TCP4 server endpoint that listens on loopback when no interface is named."""

    def __init__(self, reactor: Any, port: int, backlog: int = 50, interface: str = "") -> None:
        super().__init__(reactor, port, backlog, interface or LOOPBACK)


# localstack.runtime.server.twisted looks the class up on this module when it listens.
endpoints.TCP4ServerEndpoint = _LoopbackTCP4ServerEndpoint

if __name__ == "__main__":
    main.main()
