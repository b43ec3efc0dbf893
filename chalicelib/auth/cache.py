"""A small in-process cache of validated tokens: bounded, each entry with its own expiry."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

from chalicelib.domain.context import RequestContext


class TokenCache:
    """Least-recently-used map from a token digest to its context, until the entry expires."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, RequestContext]] = OrderedDict()
        # `chalice local` serves requests on threads; Lambda does not, so the lock is uncontended.
        self._lock = threading.Lock()

    def get(self, key: str) -> RequestContext | None:
        """The cached context, or None when absent or expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.time():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, ctx: RequestContext, expires_at: float) -> None:
        """Remember `ctx` until `expires_at` (epoch seconds), evicting the oldest entry if full."""
        if expires_at <= time.time():
            return
        with self._lock:
            self._entries[key] = (expires_at, ctx)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
