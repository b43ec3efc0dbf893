"""Glance's legacy task (`POST /v2/tasks`, type `import`): what its body must hold.
Standard library only."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Invalid
from chalicelib.domain.tasks import LEGACY_IMPORT_TASK

_INPUT_FIELDS = ("import_from", "import_from_format", "image_properties")


@dataclass(frozen=True, slots=True)
class LegacyImport:
    """An `import` task: fetch `import_from` into a new image made of `image_properties`."""

    import_from: str
    image_properties: Mapping[str, Any]
    input: Mapping[str, Any]


def parse_legacy_task(body: Any) -> LegacyImport:
    """Glance's checks on a legacy task body, with its messages.

    Raises:
        Invalid: not an `import` task, an input field missing, or of the wrong kind.
    """
    if not isinstance(body, dict):
        raise Invalid("Request body must be a JSON object.")
    kind = body.get("type")
    if kind != LEGACY_IMPORT_TASK:
        raise Invalid(f"Task type {kind!r} is not supported: only the legacy 'import' task "
                      "can be created (use POST /v2/images/{image_id}/import).")
    task_input = body.get("input")
    if not isinstance(task_input, dict) or not task_input:
        raise Invalid("Input to import task is empty.")
    for key in _INPUT_FIELDS:
        if key not in task_input:
            raise Invalid(f"Input does not contain '{key}' field")
    uri, properties = task_input["import_from"], task_input["image_properties"]
    if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
        raise Invalid("The given uri is not valid. Please specify a valid uri from the "
                      "following list of supported uri ['http', 'https']")
    if not isinstance(properties, dict):
        raise Invalid("'image_properties' must be an object of image properties.")
    # Glance's set_base_image_properties: no properties at all means qcow2 in bare.
    properties = properties or {"disk_format": "qcow2", "container_format": "bare"}
    return LegacyImport(uri, dict(properties), dict(task_input))
