"""Benchmarks: they print figures (ratios against a baseline run in the same test) and
assert only correctness, never time. Marked `bench`; CI runs them with the suite, except
the `big` ones (run them with `scripts/test tests/bench -m big -s`)."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything here is `bench`; `big` ones (GiBs, minutes) run only when `-m` names them."""
    wants_big = "big" in (config.getoption("markexpr") or "")
    for item in items:
        if "/bench/" in str(item.fspath):
            item.add_marker(pytest.mark.bench)
        if item.get_closest_marker("big") and not wants_big:
            item.add_marker(pytest.mark.skip(reason="big-image benchmark: run with -m big"))


def report(capsys: pytest.CaptureFixture[str], title: str, lines: list[str]) -> None:
    """Print a benchmark's figures past pytest's capture, so CI logs show them."""
    with capsys.disabled():
        print(f"\n[bench] {title}")
        for line in lines:
            print(f"[bench]   {line}")
