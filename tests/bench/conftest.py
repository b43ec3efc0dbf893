"""Benchmarks: they print figures (ratios against a baseline run in the same test) and
assert only correctness, never time. Marked `bench`; CI runs them with the suite."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.processes import free_port, stop


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/bench/" in str(item.fspath):
            item.add_marker(pytest.mark.bench)


@pytest.fixture(scope="module")
def moto_process() -> Iterator[str]:
    """moto's server in its own process, so the worker's memory is measured alone."""
    port = free_port()
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{endpoint}/moto-api/", timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline and process.poll() is None, "moto did not start"
            time.sleep(0.2)
    yield endpoint
    stop(process)


def report(capsys: pytest.CaptureFixture[str], title: str, lines: list[str]) -> None:
    """Print a benchmark's figures past pytest's capture, so CI logs show them."""
    with capsys.disabled():
        print(f"\n[bench] {title}")
        for line in lines:
            print(f"[bench]   {line}")
