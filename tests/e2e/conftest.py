"""The local runtime as a subprocess on free loopback ports, shared by the e2e tests."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.processes import free_port, stop, wait_until_up

PROJECT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


@dataclass(frozen=True)
class Runtime:
    """A running `python -m glint_local`."""

    api: str
    aws: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def glint_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Start the runtime exactly as the README does (minus the bootstrap) and wait for it."""
    api_port, aws_port = free_port(), free_port()
    log_path = tmp_path_factory.mktemp("runtime") / "glint.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLINT_"))}
    env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "glint_local", "--port", str(api_port),
             "--aws-port", str(aws_port), "--visibility-timeout", "5"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    runtime = Runtime(f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", process)
    try:
        wait_until_up(process, lambda: requests.get(f"{runtime.api}/versions",
                                                    timeout=2).status_code == 200,
                      "runtime", log_path, START_TIMEOUT)
        yield runtime
    finally:
        stop(process)

