"""Glance's image JSON-patch: parse the request body, apply it, rebuild the image."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import jsonpatch
import jsonpointer

from chalicelib.domain import policy, property_protections
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, UnsupportedMediaType
from chalicelib.domain.image import (IMPORT_ERROR_PROPERTY, READ_ONLY_FIELDS, WRITABLE_FIELDS,
                                     Image, Status, document, is_reserved)
from chalicelib.domain.schema import validate_image_document

PATCH_V21 = "application/openstack-images-v2.1-json-patch"
PATCH_V20 = "application/openstack-images-v2.0-json-patch"
PATCH_MEDIA_TYPES = (PATCH_V21, PATCH_V20)
_OPS = ("add", "remove", "replace")
# Core fields that can be replaced but never removed.
_CORE_FIELDS = WRITABLE_FIELDS | READ_ONLY_FIELDS
_FORMAT_FIELDS = ("disk_format", "container_format")


def parse_patch(content_type: str, body: Any) -> list[dict[str, Any]]:
    """Turn a request body into RFC 6902 operations on one-level paths.

    Raises:
        UnsupportedMediaType: the content type is not a Glance patch type.
        Invalid: the body is not a list of well-formed add/remove/replace operations.
    """
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in PATCH_MEDIA_TYPES:
        raise UnsupportedMediaType(f"Unsupported Content-Type '{content_type}'; use "
                                   f"'{PATCH_V21}'.")
    if not isinstance(body, list):
        raise Invalid("Request body must be a JSON array of operation objects.")
    return [_parse_operation(raw, media_type == PATCH_V20) for raw in body]


def _parse_operation(raw: Any, draft4: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise Invalid("Operations must be JSON objects.")
    if draft4:  # the 2.0 form: {"replace": "/name", "value": ...}
        ops = [op for op in _OPS if op in raw]
        if len(ops) != 1:
            raise Invalid("Operation objects must contain exactly one of "
                          "\"add\", \"remove\", \"replace\".")
        raw = {"op": ops[0], "path": raw[ops[0]], **({"value": raw["value"]} if "value" in raw else {})}
    op, path = raw.get("op"), raw.get("path")
    if op not in _OPS:
        raise Invalid(f"Invalid operation: '{op}'. Operations are add, remove and replace.")
    if not isinstance(path, str):
        raise Invalid("Unable to find 'path' in JSON Schema change.")
    if op != "remove" and "value" not in raw:
        raise Invalid(f"Operation '{op}' requires a member named 'value'.")
    try:
        parts = jsonpointer.JsonPointer(path).parts
    except jsonpointer.JsonPointerException as exc:
        raise Invalid(f"Invalid JSON pointer for this resource: '{path}'.") from exc
    if len(parts) != 1 or not parts[0]:
        raise Invalid(f"Invalid JSON pointer for this resource: '{path}'.")
    return {"op": op, "path": path, "name": parts[0], **({"value": raw["value"]} if op != "remove" else {})}


def apply_patch(ctx: RequestContext, image: Image, operations: list[dict[str, Any]],
                now: str) -> Image:
    """Apply parsed operations to the image with Glance's rules.

    Raises:
        Forbidden: a read-only, reserved or core property is touched, a protected property
            is changed in a way the caller's roles may not, or a rule forbids it.
        Conflict: replace or remove of a property that does not exist.
        Invalid: the result breaks the image schema.
    """
    doc = document(image)
    doc.pop(IMPORT_ERROR_PROPERTY, None)
    for op in operations:
        _check_target(ctx, image, op)
    try:
        patched = jsonpatch.apply_patch(doc, [{k: v for k, v in op.items() if k != "name"}
                                               for op in operations])
    except jsonpatch.JsonPatchConflict as exc:
        raise Conflict(f"Property does not exist: {exc}") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise Invalid(str(exc)) from exc
    removed_core = _CORE_FIELDS.intersection(doc).difference(patched)
    if removed_core:
        raise Forbidden(f"Property {sorted(removed_core)[0]} may not be removed.")
    validate_image_document(patched)
    changed = {k for k in patched.keys() | doc.keys() if patched.get(k) != doc.get(k)}
    if "visibility" in changed:
        policy.require_may_publicize(ctx, patched["visibility"], image.owner)
    if changed.intersection(_FORMAT_FIELDS) and image.status not in (Status.QUEUED,
                                                                     Status.IMPORTING):
        raise Forbidden("Attributes disk_format and container_format can be only replaced "
                        "for a queued image.")
    if not changed:
        return image
    core = {k: patched[k] for k in WRITABLE_FIELDS}
    if "owner" in changed:
        core["owner"] = _new_owner(patched["owner"])
    core["tags"] = tuple(dict.fromkeys(core["tags"]))
    properties = {k: v for k, v in patched.items() if k not in _CORE_FIELDS}
    return replace(image, **core, properties=properties, updated_at=now)


def _check_target(ctx: RequestContext, image: Image, op: dict[str, Any]) -> None:
    name = op["name"]
    if name == "owner" and op["op"] != "remove":
        # Glance lets an admin give an image to another project (quotas follow it).
        if not ctx.is_admin:
            raise Forbidden("Owner can't be updated by non admin.")
    elif name in READ_ONLY_FIELDS:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if is_reserved(name):
        raise Forbidden(f"Attribute '{name}' is reserved.")
    if name not in _CORE_FIELDS:  # property protections cover user properties only
        property_protections.require(ctx.protections, ctx.roles, name,
                                     _protected_operation(op["op"], name in image.properties))


def _new_owner(value: Any) -> str:
    if not value:
        raise Invalid("An image's owner must be a project id.")
    return str(value)


def _protected_operation(op: str, exists: bool) -> str:
    """Glance's mapping: remove deletes, replace updates, add creates (updates if present)."""
    if op == "remove":
        return "delete"
    return "update" if op == "replace" or exists else "create"
