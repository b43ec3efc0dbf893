"""What the worker hands the engine, and how it fails when the engine cannot take it."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import ImageRejected


class EngineUnavailable(ImageRejected):
    """The engine cannot take this import (not configured, refused to start): an
    environment fault, so the import fails once with the reason, never retried."""


@dataclass(frozen=True, slots=True)
class Job:
    """One import handed to the engine: the image and the staged object it claimed."""

    image_id: str
    key: str

    def command(self) -> list[str]:
        """The arguments of the engine's entry point (chalicelib/pipeline/engine_task.py)."""
        return ["--image-id", self.image_id, "--key", self.key]
