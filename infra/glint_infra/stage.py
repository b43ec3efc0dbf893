"""Which deployment is being built: the stage, and the resource names chalicelib derives."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from chalicelib import topology
from chalicelib.config import Settings, get_settings

# GLINT_* variables that name resources (config.py spells them GLINT_<FIELD>); the stack sets
# them on every function, so the code in Lambda reads exactly the names this stack created.
_NAME_VARIABLES = {f"GLINT_{name.upper()}": name for name in (
    "bucket", "import_queue", "event_bus", "event_source",
    *(model.Meta.settings_field for model in topology.TABLE_MODELS))}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")


@dataclass(frozen=True, slots=True)
class Deployment:
    """One named stage and the settings its functions will run with."""

    stage: str
    settings: Settings
    # Further GLINT_* settings for the functions, e.g. GLINT_KEYSTONE_URL (auth is per site).
    extra_environment: dict[str, str] = field(default_factory=dict)

    @property
    def stack_name(self) -> str:
        return f"glint-{self.stage}"

    def lambda_environment(self) -> dict[str, str]:
        """The GLINT_* variables every function gets."""
        names = {var: getattr(self.settings, name) for var, name in _NAME_VARIABLES.items()}
        return {**self.extra_environment, "GLINT_STAGE": self.stage, **names}


def activate(stage: str | None, resource_prefix: str | None = None,
             extra_environment: dict[str, str] | None = None) -> Deployment:
    """Point chalicelib's settings at `stage` (in this process) and return the deployment.

    Raises:
        ValueError: the stage is missing, `local`, or not a short lower-case name.
    """
    if not stage or stage == "local" or not _STAGE_NAME.match(stage):
        raise ValueError(f"stage must be a short lower-case name other than 'local': {stage!r}")
    for variable in _NAME_VARIABLES:
        os.environ.pop(variable, None)
    os.environ["GLINT_STAGE"] = stage
    if resource_prefix:
        os.environ["GLINT_RESOURCE_PREFIX"] = resource_prefix
    else:
        os.environ.pop("GLINT_RESOURCE_PREFIX", None)
    os.environ.update(extra_environment or {})
    get_settings.cache_clear()
    return Deployment(stage, get_settings(), dict(extra_environment or {}))
