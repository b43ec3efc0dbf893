"""Starts LocalStack (run by .venv-localstack's Python 3.13, not by the test process).

Two settings LocalStack 2026.3 has no variable for, made here before it starts exactly as
`python -m localstack.runtime.main` does:
- its default (twisted) gateway ignores the host of an IPv4 GATEWAY_LISTEN and listens on every
  interface (the hypercorn gateway binds the host but truncates response bodies): the IPv4
  listener gets the loopback interface;
- its S3 spills object data to a fixed /tmp/localstack-s3-storage that every instance on the
  machine shares: it goes under this instance's FILESYSTEM_ROOT, which LocalStack clears.
"""
from __future__ import annotations

import os
from typing import Any

from localstack import config
from localstack.runtime import main
from localstack.services.s3 import provider
from twisted.internet import endpoints

LOOPBACK = "127.0.0.1"


class _LoopbackTCP4ServerEndpoint(endpoints.TCP4ServerEndpoint):
    """A TCP4 server endpoint that listens on loopback when no interface is named."""

    def __init__(self, reactor: Any, port: int, backlog: int = 50, interface: str = "") -> None:
        super().__init__(reactor, port, backlog, interface or LOOPBACK)


# Both names are looked up when used: the gateway's listener at start, the S3 store's
# directory when the S3 provider is created.
endpoints.TCP4ServerEndpoint = _LoopbackTCP4ServerEndpoint
provider.DEFAULT_S3_TMP_DIR = os.path.join(config.dirs.tmp, "s3-storage")

if __name__ == "__main__":
    main.main()
