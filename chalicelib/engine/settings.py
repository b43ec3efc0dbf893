"""Settings of the big-image engine, read from `GLINT_ENGINE_*` variables (docs/big-images.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass

_GIB = 1024 ** 3


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """When an import leaves the worker function, and where the container task runs."""

    # Above this many bytes an import does not fit one worker invocation's 900 s.
    threshold_bytes: int
    # The worker function's temporary storage: a conversion needs the original and its
    # output on disk at once, so larger ones go to the task (which has far more).
    function_storage_bytes: int
    cluster: str
    task_definition: str
    container: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    # Tasks in public subnets reach AWS APIs over a public address (no NAT gateway to pay).
    public_ip: bool


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def engine_settings() -> EngineSettings:
    """The engine's settings from the environment (empty cluster: no task can be started)."""
    env = os.environ.get
    return EngineSettings(
        threshold_bytes=int(env("GLINT_ENGINE_THRESHOLD_BYTES") or 40 * _GIB),
        function_storage_bytes=int(env("GLINT_FUNCTION_STORAGE_BYTES") or 10 * _GIB),
        cluster=env("GLINT_ENGINE_CLUSTER", ""),
        task_definition=env("GLINT_ENGINE_TASK_DEFINITION", ""),
        container=env("GLINT_ENGINE_CONTAINER", "engine"),
        subnets=_names(env("GLINT_ENGINE_SUBNETS", "")),
        security_groups=_names(env("GLINT_ENGINE_SECURITY_GROUPS", "")),
        public_ip=env("GLINT_ENGINE_PUBLIC_IP", "false").lower() == "true",
    )
