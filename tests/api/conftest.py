"""Fixtures for the API tests: the events a request published, and settings overrides."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chalicelib import aws
from tests.support import override_settings


@pytest.fixture()
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event published during the test, as (name, detail), in order."""
    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr("chalicelib.events.send", lambda event, client=None: bool(
        seen.append((event.name, event.detail)) or True))
    return seen


@pytest.fixture()
def glint_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set GLINT_* variables for the rest of the test; settings are re-read, then restored."""
    yield lambda **variables: override_settings(monkeypatch, **variables)
    monkeypatch.undo()
    aws.reset()
