"""Glance's image schema, served to clients and used to validate what they send."""
from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

import jsonschema

from chalicelib.domain.errors import Invalid

# Core integers Glance keeps in 32-bit signed database columns, never negative.
_COUNTS = ("min_ram", "min_disk")
_MAX_COUNT = 2**31 - 1


@functools.cache
def _image_schema() -> dict[str, Any]:
    text = resources.files("chalicelib.domain").joinpath("schemas/image.json").read_text()
    return json.loads(text)


def image_schema() -> dict[str, Any]:
    """The image schema document (a fresh copy the caller may change)."""
    return copy.deepcopy(_image_schema())


def images_schema() -> dict[str, Any]:
    """The image-list schema."""
    return collection_schema("images", image_schema())


def collection_schema(name: str, item: dict[str, Any]) -> dict[str, Any]:
    """A list schema around an item schema, as Glance's CollectionSchema builds it."""
    return {
        "name": name,
        "properties": {
            name: {"type": "array", "items": item},
            "schema": {"type": "string"},
            "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


@functools.cache
def _validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_image_schema())


def validate_image_document(doc: dict[str, Any]) -> None:
    """Check a whole image document against the schema.

    Raises:
        Invalid: with the first violation, in words a user can act on.
    """
    error = jsonschema.exceptions.best_match(_validator().iter_errors(doc))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise Invalid(f"Provided object does not match schema 'image': {error.message} "
                      f"(at '{where}')")
    for name in _COUNTS:
        _check_count(name, doc.get(name))


def _check_count(name: str, value: Any) -> None:
    # Glance's domain and database bounds, beyond its published schema (which has none).
    if not isinstance(value, int):
        return
    if value < 0:
        raise Invalid(f"Invalid value '{value}' for parameter '{name}': Cannot be a negative "
                      "value")
    if value > _MAX_COUNT:
        raise Invalid(f"'{name}' value out of range, must not exceed {_MAX_COUNT}.")
