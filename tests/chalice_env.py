"""Chalice's test client swaps `os.environ` for a patched copy around every invocation and
swaps the original back afterwards. Two invocations on different threads (the concurrency and
fault tests run them) interleave those swaps, and the process keeps a copy as `os.environ`
for good: settings a test set with monkeypatch then outlive the test. This makes the swap
shared: the first invocation in swaps, the last one out restores."""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping

from chalice.test import BaseClient

_LOCK = threading.Lock()
_active = 0
_original: os._Environ[str] | None = None  # type: ignore[name-defined]


@contextlib.contextmanager
def _shared_patched_env_vars(_client: BaseClient, variables: Mapping[str, str]) -> Iterator[None]:
    global _active, _original
    with _LOCK:
        if _active == 0:
            _original = os.environ
            patched = os.environ.copy()
            patched.update(variables)
            os.environ = patched  # type: ignore[assignment]
        _active += 1
    try:
        yield
    finally:
        with _LOCK:
            _active -= 1
            if _active == 0:
                os.environ = _original  # type: ignore[assignment]


def install() -> None:
    """Replace the test client's swap with the shared one (for the whole test process)."""
    BaseClient._patched_env_vars = _shared_patched_env_vars  # type: ignore[method-assign]
