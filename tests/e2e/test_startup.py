"""Start-up as a newcomer meets it: scripts/run installs only the service's requirements,
and a busy port is a one-line error with a non-zero exit, never a hang or a traceback."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port

PROJECT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ("requirements.txt", "requirements-local.txt", "requirements-dev.txt")
# Never needed to serve the API: the CDK and the OpenStack clients (tests use those).
NOT_FOR_THE_SERVICE = ("aws-cdk", "chalice[cdkv2]", "glanceclient", "openstacksdk",
                       "openstackclient", "pytest")


def _requirements(name: str) -> list[str]:
    """The requirement lines of a file, following `-r` includes."""
    lines: list[str] = []
    for line in (PROJECT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            lines += _requirements(line[3:].strip())
        elif line:
            lines.append(line)
    return lines


def test_service_requirements_leave_out_tools_and_clients():
    service = _requirements("requirements-local.txt")
    assert any(line.startswith("moto[server]") for line in service)
    assert not [line for line in service if any(tool in line for tool in NOT_FOR_THE_SERVICE)]
    assert set(service) < set(_requirements("requirements-dev.txt"))


@pytest.fixture()
def clone(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The scripts and requirement files in a fresh directory, whose .venv python only
    records how it was called (no install really happens)."""
    (tmp_path / "scripts").mkdir()
    for script in ("bootstrap", "run"):
        shutil.copy2(PROJECT / "scripts" / script, tmp_path / "scripts" / script)
    for name in (*REQUIREMENTS, "pyproject.toml"):
        shutil.copy2(PROJECT / name, tmp_path / name)
    calls = tmp_path / "calls.log"
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\n')
    python.chmod(0o755)
    yield tmp_path, calls


def _installs(calls: Path) -> list[str]:
    lines = calls.read_text().splitlines() if calls.exists() else []
    calls.unlink(missing_ok=True)
    return [re.sub(r".* -r \S*/", "", line) for line in lines if " -r " in line]


def test_run_installs_the_service_only_and_once(clone):
    root, calls = clone
    run = subprocess.run([str(root / "scripts" / "run"), "--port", "0"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = calls.read_text().splitlines()
    assert _installs(calls) == ["requirements-local.txt"]
    assert lines[-1] == "-m glint_local --port 0"
    subprocess.run([str(root / "scripts" / "run")], check=True, timeout=60)
    assert _installs(calls) == []  # unchanged requirements: straight to the service
    subprocess.run([str(root / "scripts" / "bootstrap")], check=True, timeout=60)
    assert _installs(calls) == ["requirements-dev.txt"]  # what scripts/test asks for
    subprocess.run([str(root / "scripts" / "run")], check=True, timeout=60)
    assert _installs(calls) == []  # everything installed covers the service


@pytest.fixture()
def busy_port() -> Iterator[int]:
    """A loopback port something else listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize("option,what", [("--port", "API"), ("--aws-port", "Embedded AWS")])
def test_busy_port_is_a_one_line_error(busy_port, option, what):
    ports = {"--port": str(free_port()), "--aws-port": str(free_port()), option: str(busy_port)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLINT_"))}
    run = subprocess.run([sys.executable, "-m", "glint_local", *sum(ports.items(), ())],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"glint_local: {what} port {busy_port} on 127.0.0.1 is already in use; stop what "
        f"listens there or choose another with {option} (0 picks a free one)."]
    assert "Glint is running" not in run.stdout
