"""Loopback ports and subprocesses for the tiers that start servers (runtime, moto, LocalStack)."""
from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, seconds: float = 20) -> None:
    """Terminate a server subprocess, killing it if it does not exit in time."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_up(process: subprocess.Popen, ready: Callable[[], bool], name: str,
                  log_path: Path, seconds: float) -> None:
    """Poll `ready` until it is true; raise with the server's log if it exits or times out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited:\n{log_path.read_text()}")
        try:
            if ready():
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{name} not up after {seconds}s:\n{log_path.read_text()}")
