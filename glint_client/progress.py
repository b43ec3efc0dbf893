"""A one-line progress display on stderr: bytes done, rate and time left."""
from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


def human(n: float) -> str:
    """Bytes as KiB/MiB/GiB with one decimal."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


class Progress:
    """Thread-safe byte counter that redraws at most every `interval` seconds; on a pipe it
    prints a line each time instead of redrawing."""

    def __init__(self, label: str, total: int, done: int = 0, stream: TextIO = sys.stderr,
                 interval: float = 0.5) -> None:
        self.label, self.total, self.stream, self.interval = label, total, stream, interval
        self._done, self._counted = done, 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._drawn = 0.0
        self._tty = stream.isatty()

    def add(self, n: int) -> None:
        """Count `n` more bytes; redraw when due."""
        with self._lock:
            self._done += n
            self._counted += n
            now = time.monotonic()
            if now - self._drawn >= self.interval:
                self._drawn = now
                self._draw(now)

    def finish(self) -> None:
        """Draw the final figures and end the line."""
        with self._lock:
            self._draw(time.monotonic())
            if self._tty:
                self.stream.write("\n")
            self.stream.flush()

    def _draw(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-6)
        rate = self._counted / elapsed  # this run's rate: resumed bytes were not sent now
        left = (self.total - self._done) / rate if rate > 0 else float("inf")
        pct = 100.0 * self._done / self.total if self.total else 100.0
        eta = f"{left:,.0f} s" if left != float("inf") else "?"
        line = (f"{self.label}: {human(self._done)} / {human(self.total)} ({pct:.0f}%), "
                f"{human(rate)}/s, {eta} left")
        self.stream.write(f"\r{line}\033[K" if self._tty else f"{line}\n")
