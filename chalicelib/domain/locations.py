"""The location API of Images API 2.17 (`POST`/`GET /v2/images/{id}/locations`): Glance's
body schema and checks, and the locations as the service role sees them. Standard library
and jsonschema only."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from chalicelib.domain.errors import Invalid
from chalicelib.domain.image import Image
from chalicelib.domain.stores import Store

# Glance's `add_location` schema (glance.api.v2.images.get_add_location_properties).
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "validation_data": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "os_hash_algo": {"type": "string", "maxLength": 64,
                                 "enum": ["sha1", "sha256", "sha512", "md5"]},
                "os_hash_value": {"type": "string", "maxLength": 128},
            },
            "dependentRequired": {"os_hash_value": ["os_hash_algo"],
                                  "os_hash_algo": ["os_hash_value"]},
        },
    },
    "required": ["url"],
}
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)
# The location import that holds a queued image (Glance's lock property of the same name).
TASK_PROPERTY = "os_glance_import_task"


@dataclass(frozen=True, slots=True)
class AddLocation:
    """A checked `POST .../locations` body: the URL and, when given, the hash the data
    must have."""

    url: str
    hash_algo: str | None = None
    hash_value: str | None = None


def parse_add_location(body: Any) -> AddLocation:
    """Glance's checks, in its order: the schema, then the hash value's length for its
    algorithm.

    Raises:
        Invalid: the body does not match the schema, or the hash value is not hexadecimal
            of the algorithm's digest size (Glance answers 400 for both).
    """
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(body))
    if error is not None:
        raise Invalid(f"Provided object does not match schema 'location': {error.message}")
    validation = body.get("validation_data") or {}
    algo, value = validation.get("os_hash_algo"), validation.get("os_hash_value")
    if value is not None:
        try:
            digest = bytes.fromhex(value)
        except ValueError:
            raise Invalid(f"os_hash_value ({value}) is not a valid hexadecimal value") from None
        want = hashlib.new(algo).digest_size
        if len(digest) != want:
            raise Invalid(f"os_hash_value: ({value}) is not the correct size for ({algo}) "
                          f"(should be ({want}) bytes)")
        value = value.lower()
    return AddLocation(body["url"], algo, value)


def document(image: Image, configured: Sequence[Store]) -> list[dict[str, Any]]:
    """`GET .../locations`: each readable copy as Glance lists it, its URL and its store
    (an http store's copy is its URL; a bucket's, `s3://bucket/key`)."""
    buckets = {s.id: s for s in configured}
    shown = []
    for location in image.locations:
        store = buckets.get(location.store)
        if location.status != "active" or store is None:
            continue
        url = location.key if store.read_only else f"s3://{store.bucket}/{location.key}"
        shown.append({"url": url, "metadata": {"store": store.id}})
    return shown
