"""Which path an import takes, and the hand-over from the worker function to the engine.

The worker claims every import. One that fits an invocation (its bytes verified well inside
900 s, a conversion's files inside the function's temporary storage) it runs itself; any
other it hands, still claimed, to a container task that runs the very same import code."""
from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.config import Settings, get_settings
from chalicelib.domain.image import Image
from chalicelib.engine import ecs
from chalicelib.engine.jobs import Job

log = logging.getLogger(__name__)
Launcher = Callable[[Job], object]
_launcher: Launcher | None = None


def use_launcher(launcher: Launcher | None) -> None:
    """Start engine jobs with `launcher` instead of ECS (the local runtime runs them as
    processes); None restores ECS."""
    global _launcher
    _launcher = launcher


def big_path_reason(image: Image, settings: Settings | None = None) -> str | None:
    """Why this claimed import must leave the worker function, or None when it fits."""
    assert image.upload is not None
    settings = settings or get_settings()
    size, engine = image.upload.size, settings.engine
    if size > engine.threshold_bytes:
        return f"{size} bytes is above the worker's limit of {engine.threshold_bytes} bytes"
    # Converting keeps the original and each output on local disk at once.
    if settings.convert_to and 2 * size > engine.function_storage_bytes:
        return (f"converting {size} bytes needs more than the worker's "
                f"{engine.function_storage_bytes} bytes of temporary storage")
    return None


def hand_over(image: Image, reason: str) -> None:
    """Start the engine on this claimed import; the claim stays for the task to renew.

    Raises:
        EngineUnavailable: the engine cannot be started for this import.
    """
    assert image.upload is not None
    job = Job(image.id, image.upload.key)
    log.info("import handed to the big-image engine", extra={"image_id": image.id,
                                                             "reason": reason})
    if _launcher is not None:
        _launcher(job)
        return
    ecs.launch(job, reason)
