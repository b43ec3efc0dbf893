"""The ports the local runtime listens on: a busy one is a one-line error before anything
starts, not a traceback or a server thread that never comes up."""
from __future__ import annotations

import errno
import socket


class PortUnavailable(Exception):
    """A port the runtime needs cannot be listened on; the message is the whole story."""


def require_free(host: str, port: int, what: str, option: str) -> None:
    """Check that `host:port` can be listened on now (0, any free port, always can).

    Raises:
        PortUnavailable: something else listens there, or the address is not this machine's.
    """
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As the servers themselves bind: a port in TIME_WAIT is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise unavailable(host, port, what, option, exc) from exc


def unavailable(host: str, port: int, what: str, option: str, exc: OSError) -> PortUnavailable:
    """The one-line error for a bind of `what` on host:port that failed with `exc`."""
    if exc.errno == errno.EADDRINUSE:
        return PortUnavailable(f"{what} port {port} on {host} is already in use; stop what "
                               f"listens there or choose another with {option} (0 picks a "
                               "free one).")
    return PortUnavailable(f"{what} cannot listen on {host}:{port}: {exc.strerror or exc}.")
