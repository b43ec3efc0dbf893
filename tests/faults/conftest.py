"""Fixtures of the fault-injection tier: in-process moto with DynamoDB's per-item write
atomicity, the crash harness on every client, a loopback origin for web-download, and the
convergence table printed at the end of the run."""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import aws
from chalicelib.config import get_settings
from glint_local import embedded_aws, provision
from tests.faults import crash
from tests.faults.matrix import CELLS
from tests.faults.usecases import SMALL
from tests.faults.world import World
from tests.support import Env, override_settings

PROJECT = Path(__file__).resolve().parents[2]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="session")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A web server on a free loopback port that serves SMALL at /disk.raw."""
    root = tmp_path_factory.mktemp("origin")
    (root / "disk.raw").write_bytes(SMALL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def tier_settings(origin: str) -> dict[str, str]:
    """Two stores (copy-image), the loopback origin trusted for web-download."""
    stores = [{"id": "default", "bucket": get_settings().bucket, "default": True},
              {"id": "cold", "bucket": "glint-test-faults-cold"}]
    return {"GLINT_STORES": json.dumps(stores),
            "GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS": "127.0.0.1/32",
            "GLINT_WEB_DOWNLOAD_ALLOWED_PORTS": f"80,443,{origin.rsplit(':', 1)[1]}"}


@pytest.fixture()
def world(origin: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
          ) -> Iterator[World]:
    """A fresh in-process moto, provisioned, with the crash harness on every client; settings
    from the tier plus any a `settings` marker names."""
    marker = request.node.get_closest_marker("settings")
    embedded_aws._serialize_dynamodb_writes()  # noqa: SLF001 - as the runtime does
    with mock_aws():
        override_settings(monkeypatch, **tier_settings(origin), **(marker.kwargs if marker else {}))
        crash.install()
        crash.HOOKS.injector = crash.Injector()
        env = Env(provision.provision(get_settings()))
        from app import app
        with Client(app, stage_name="local", project_dir=str(PROJECT)) as client:
            world = World(client, env, crash.HOOKS.injector, monkeypatch)
            try:
                yield world
            finally:
                world.finish()
        crash.HOOKS.injector = crash.Injector()
    aws.reset()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**env): Glint settings for one faults test")


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Every test here carries the faults marker."""
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The convergence table: use case x crash point -> outcome."""
    if not CELLS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("convergence: use case x crash point -> outcome")
    converged = sum(1 for cell in CELLS if not cell.problems)
    for cell in CELLS:
        verdict = "ok  " if not cell.problems else "FAIL"
        index = "-" if cell.index is None else str(cell.index)
        write(f"{verdict} {cell.use_case:<20} #{index:<3} {cell.point:<52} -> {cell.outcome}")
        for problem in cell.problems[:4]:
            write(f"         {problem}")
    write(f"{converged}/{len(CELLS)} crash points converged")
