"""The metadefs JSON schemas: served under /v2/schemas/metadefs/* and used to check request bodies.

Clients build their models from these (python-glanceclient validates every answer against
them), so each one lists exactly the fields Glint renders."""
from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import jsonschema

from chalicelib.domain.errors import Invalid, NotFound

PROPERTY_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
_TIMESTAMP = {"type": "string", "format": "date-time", "readOnly": True}
_STRING_ARRAY = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
_NON_NEGATIVE = {"type": "integer", "minimum": 0}


def _property_fields() -> dict[str, Any]:
    """The keywords a property definition may use (a subset of JSON schema, plus Glance's)."""
    return {
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": "string", "enum": PROPERTY_TYPES},
        "required": _STRING_ARRAY,
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": _NON_NEGATIVE,
        "minLength": _NON_NEGATIVE,
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {"type": "object", "additionalProperties": False, "properties": {
            "type": {"type": "string", "enum": PROPERTY_TYPES}, "enum": {"type": "array"}}},
        "maxItems": _NON_NEGATIVE,
        "minItems": _NON_NEGATIVE,
        "uniqueItems": {"type": "boolean"},
        "additionalItems": {"type": "boolean"},
    }


def _definitions() -> dict[str, Any]:
    return {"property": {"type": "object", "additionalProperties": {
        "type": "object", "required": ["title", "type"], "additionalProperties": False,
        "properties": _property_fields()}}}


def _association_fields() -> dict[str, Any]:
    return {"name": {"type": "string", "maxLength": 80},
            "prefix": {"type": "string", "maxLength": 80},
            "properties_target": {"type": "string", "maxLength": 80},
            "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP}


def _object_fields() -> dict[str, Any]:
    return {"name": {"type": "string", "maxLength": 80},
            "description": {"type": "string"},
            "required": _STRING_ARRAY,
            "properties": {"$ref": "#/definitions/property"},
            "schema": {"type": "string", "readOnly": True},
            "self": {"type": "string", "readOnly": True},
            "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP}


def _tag_fields() -> dict[str, Any]:
    return {"name": {"type": "string", "minLength": 1, "maxLength": 255},
            "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP}


def _named(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": ["name"]}


def _entity(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"name": name, "properties": properties, "required": required,
            "additionalProperties": False, "definitions": _definitions()}


def namespace() -> dict[str, Any]:
    """`/v2/schemas/metadefs/namespace`."""
    return _entity("namespace", {
        "namespace": {"type": "string", "minLength": 1, "maxLength": 80},
        "display_name": {"type": ["string", "null"], "maxLength": 80},
        "description": {"type": ["string", "null"], "maxLength": 500},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "protected": {"type": "boolean"},
        "owner": {"type": "string", "maxLength": 255},
        "created_at": _TIMESTAMP, "updated_at": _TIMESTAMP,
        "schema": {"type": "string", "readOnly": True},
        "self": {"type": "string", "readOnly": True},
        "resource_type_associations": _array_of(_named(_association_fields())),
        "properties": {"$ref": "#/definitions/property"},
        "objects": _array_of(_named(_object_fields())),
        "tags": _array_of(_named(_tag_fields())),
    }, ["namespace"])


def metadef_object() -> dict[str, Any]:
    """`/v2/schemas/metadefs/object`."""
    return _entity("object", _object_fields(), ["name"])


def metadef_property() -> dict[str, Any]:
    """`/v2/schemas/metadefs/property`."""
    return _entity("property", _property_fields(), ["name", "title", "type"])


def tag() -> dict[str, Any]:
    """`/v2/schemas/metadefs/tag`."""
    return _entity("tag", _tag_fields(), ["name"])


def tags_body() -> dict[str, Any]:
    """The body of a bulk tag create: `{"tags": [{"name": ...}, ...]}`."""
    item = {"type": "object", "properties": {"name": _tag_fields()["name"]},
            "required": ["name"], "additionalProperties": False}
    return {"name": "tags", "type": "object", "required": ["tags"],
            "properties": {"tags": {"type": "array", "items": item}}}


def resource_type() -> dict[str, Any]:
    """`/v2/schemas/metadefs/resource_type` (an association; a bare resource type fits it too)."""
    return _entity("resource_type_association", _association_fields(), ["name"])


def _collection(name: str, listed: dict[str, Any]) -> dict[str, Any]:
    """A list schema whose `name` field is `listed`, as Glance's CollectionSchema builds it."""
    return {"name": name, "definitions": _definitions(),
            "properties": {name: listed, "first": {"type": "string"},
                           "next": {"type": "string"}, "schema": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def _array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "namespace": namespace,
    "namespaces": lambda: _collection("namespaces", _array_of(namespace())),
    "object": metadef_object,
    "objects": lambda: _collection("objects", _array_of(metadef_object())),
    "property": metadef_property,
    # The property list is a map from name to definition, not an array.
    "properties": lambda: _collection("properties", {"$ref": "#/definitions/property"}),
    "resource_type": resource_type,
    "resource_types": lambda: _collection("resource_type_associations",
                                          _array_of(resource_type())),
    "tag": tag,
    "tags": lambda: _collection("tags", _array_of(tag())),
}
# Request bodies checked against a schema that is not served on its own.
_BODIES: dict[str, Callable[[], dict[str, Any]]] = {**_SCHEMAS, "tags_body": tags_body}


def schema(name: str) -> dict[str, Any]:
    """The named schema (a fresh copy).

    Raises:
        NotFound: no metadefs schema has that name.
    """
    if name not in _SCHEMAS:
        raise NotFound(f"No metadefs schema named '{name}'.")
    return copy.deepcopy(_cached(name))


@functools.cache
def _cached(name: str) -> dict[str, Any]:
    return _BODIES[name]()


def require_valid(name: str, body: Any) -> None:
    """Check a request body against a schema (read-only fields are rejected by the caller).

    Raises:
        Invalid: with the first violation, saying where it is.
    """
    document = _cached(name)
    validator = jsonschema.Draft4Validator(document, format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "body"
        raise Invalid(f"Provided object does not match schema '{document['name']}': "
                      f"{error.message} (at '{where}')")
