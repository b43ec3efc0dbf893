"""Which deployment is being built: the stage, and the resource names chalicelib derives."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from chalice.config import Config

from chalicelib import topology
from chalicelib.config import Settings, get_settings

# GLINT_* variables that name resources (config.py spells them GLINT_<FIELD>); the stack sets
# them on every function, so the code in Lambda reads exactly the names this stack created.
_NAME_VARIABLES = {f"GLINT_{name.upper()}": name for name in (
    "bucket", "import_queue", "event_bus", "event_source", "certificate_secret_prefix",
    *(model.Meta.settings_field for model in topology.TABLE_MODELS))}
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")
# Settings that name a Secrets Manager secret (GLINT_KEYSTONE_SECRET_ID, ...).
SECRET_SUFFIX = "_SECRET_ID"


@dataclass(frozen=True, slots=True)
class Deployment:
    """One named stage and the settings its functions will run with."""

    stage: str
    settings: Settings
    # Further GLINT_* settings for the functions, e.g. GLINT_KEYSTONE_URL (auth is per site).
    extra_environment: dict[str, str] = field(default_factory=dict)
    # Everything the functions are configured with: the stage's variables in
    # .chalice/config.json, then extra_environment over them.
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def stack_name(self) -> str:
        return f"glint-{self.stage}"

    def lambda_environment(self) -> dict[str, str]:
        """The GLINT_* variables every function gets."""
        names = {var: getattr(self.settings, name) for var, name in _NAME_VARIABLES.items()}
        return {**self.extra_environment, "GLINT_STAGE": self.stage, **names}

    def secrets(self) -> dict[str, str]:
        """Configured secrets: setting (`GLINT_*_SECRET_ID`) -> secret name or ARN."""
        return {name: value for name, value in self.environment.items()
                if name.endswith(SECRET_SUFFIX) and value}


def configured_environment(source_dir: Path, stage: str) -> dict[str, str]:
    """The variables .chalice/config.json gives every function of `stage` (top level, then
    the stage), merged as Chalice merges them when it packages the app."""
    on_disk = json.loads((source_dir / ".chalice" / "config.json").read_text())
    return Config(chalice_stage=stage, function_name="",
                  config_from_disk=on_disk).environment_variables


def activate(source_dir: Path, stage: str | None, resource_prefix: str | None = None,
             extra_environment: dict[str, str] | None = None) -> Deployment:
    """Point chalicelib's settings at `stage` (in this process), as its functions will see
    them (with `source_dir`'s .chalice/config.json), and return the deployment.

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
    environment = {**configured_environment(source_dir, stage), **(extra_environment or {})}
    os.environ.update(environment)
    get_settings.cache_clear()
    return Deployment(stage, get_settings(), dict(extra_environment or {}), environment)
