"""Glint's local runtime against real Glance 33, side by side in one run: the Glance anchor's
own benchmark client (bench.py, run from the anchor, not copied) drives both, and the
Glint/Glance ratios for create, show and list, from 1 client and 8 threads, are printed.
Target: every ratio >= 1.0 (a printed figure; only errors fail the test).

The anchor is built outside the project (GLANCE_ANCHOR, default /tmp/glance_anchor; its
README says how); without it the test skips and says so."""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bench.conftest import report
from tests.e2e.conftest import Runtime, glint_runtime  # noqa: F401 (the runtime fixture)

ANCHOR = Path(os.environ.get("GLANCE_ANCHOR", "/tmp/glance_anchor"))
GLANCE = "http://127.0.0.1:9295"  # the anchor's `bench` profile
TOKEN = "X-Auth-Token: admin:admin:admin,member,reader"
# Bounded runs: request counts per phase, and seconds per phase.
ARGS = ["--skip", "blob", "--threads", "8", "--n-create", "150", "--n-show", "500",
        "--n-list", "150", "--catalog-size", "2000", "--list-limit", "20",
        "--max-seconds", "60"]
PHASES = ("create x1", "create x8", "show x1", "show x8", "list limit=20 x1",
          "list limit=20 x8")


def _anchor_missing() -> str | None:
    needed = [ANCHOR / "bench.py", ANCHOR / "start.sh", ANCHOR / "venv-clients" / "bin" /
              "python", ANCHOR / "venv" / "bin" / "uwsgi"]
    missing = [str(path) for path in needed if not path.exists()]
    if missing:
        return (f"Glance anchor not built at {ANCHOR} (missing {', '.join(missing)}); build "
                "it as the glance-anchor README says, or point GLANCE_ANCHOR at it")
    return None


@pytest.fixture(scope="module")
def glance() -> Iterator[str]:
    """Glance 33 (profile `bench`, fresh data) for this module."""
    reason = _anchor_missing()
    if reason:
        pytest.skip(reason)
    subprocess.run([str(ANCHOR / "start.sh"), "bench"], env={**os.environ, "RESET": "1"},
                   check=True, timeout=180, capture_output=True)
    try:
        yield GLANCE
    finally:
        subprocess.run([str(ANCHOR / "stop.sh"), "bench"], timeout=60, capture_output=True)


def _bench(base: str, out: Path) -> tuple[dict, list[str]]:
    run = subprocess.run([str(ANCHOR / "venv-clients" / "bin" / "python"),
                          str(ANCHOR / "bench.py"), "--base", base, "-H", TOKEN, *ARGS,
                          "--json", str(out)], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(out.read_text())["phases"], run.stdout.splitlines()


def test_glint_against_glance(glance, glint_runtime: Runtime, tmp_path, capsys):
    glance_phases, glance_lines = _bench(glance, tmp_path / "glance.json")
    glint_phases, glint_lines = _bench(glint_runtime.api, tmp_path / "glint.json")
    lines = ["Glance 33 (uWSGI, SQLite):", *glance_lines, "Glint (local runtime):", *glint_lines,
             "Glint/Glance (requests per second; >= 1.0 is the target):"]
    for phase in PHASES:
        ours, theirs = glint_phases[phase], glance_phases[phase]
        assert ours["errors"] == 0 and theirs["errors"] == 0, (phase, ours, theirs)
        lines.append(f"  {phase:<20} {ours['rate_per_s'] / theirs['rate_per_s']:5.2f}  "
                     f"({ours['rate_per_s']} vs {theirs['rate_per_s']} req/s)")
    report(capsys, "side by side with Glance", lines)
