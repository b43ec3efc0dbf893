"""The metadata definitions catalog: its values, and request bodies parsed into them."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, Invalid
from chalicelib.domain.metadefs_schemas import require_valid

# Fields the server sets; a client sending them is refused (Glance answers 403).
_READ_ONLY = ("self", "schema", "created_at", "updated_at")
# Keyword pairs of a property definition whose lower bound may not exceed the upper one.
_BOUNDS = (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"))


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace header: who owns it, who sees it, whether it may be deleted."""

    namespace: str
    owner: str
    visibility: str = "private"
    protected: bool = False
    display_name: str | None = None
    description: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class Property:
    """A property definition; `definition` holds its JSON-schema keywords (without `name`)."""

    name: str
    definition: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MetadefObject:
    """A named group of property definitions, some of them required."""

    name: str
    description: str | None = None
    required: tuple[str, ...] = ()
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag definition."""

    name: str
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class Association:
    """A namespace applies to a resource type, its properties named with `prefix`."""

    name: str
    prefix: str | None = None
    properties_target: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A kind of resource namespaces can apply to (`OS::Glance::Image`, ...)."""

    name: str
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True, slots=True)
class Contents:
    """A namespace with everything in it."""

    namespace: Namespace
    properties: tuple[Property, ...] = ()
    objects: tuple[MetadefObject, ...] = ()
    tags: tuple[Tag, ...] = ()
    associations: tuple[Association, ...] = ()


def parse_namespace_header(ctx: RequestContext, body: Any, now: str) -> Namespace:
    """A namespace header from a create or PUT body; contents in the body are not looked at
    (clients PUT back the namespace they read, contents and all).

    Unset fields take Glance's defaults: private, unprotected, owned by the caller's project.

    Raises:
        Invalid: the body breaks the namespace schema.
        Forbidden: the body sets a read-only field.
    """
    _check_body("namespace", body)
    return Namespace(namespace=body["namespace"], owner=body.get("owner") or ctx.project_id,
                     visibility=body.get("visibility") or "private",
                     protected=bool(body.get("protected", False)),
                     display_name=body.get("display_name"),
                     description=body.get("description"), created_at=now, updated_at=now)


def parse_namespace(ctx: RequestContext, body: Any, now: str) -> Contents:
    """A new namespace with any contents the body carries.

    Raises:
        Invalid: the body breaks the namespace schema or a property definition is invalid.
        Forbidden: the body sets a read-only field.
        Conflict: the body names two objects, tags or associations alike.
    """
    header = parse_namespace_header(ctx, body, now)
    properties = tuple(parse_property({**definition, "name": name})
                       for name, definition in (body.get("properties") or {}).items())
    objects = tuple(parse_object(item, now) for item in body.get("objects") or ())
    tags = tuple(Tag(item["name"], now, now) for item in body.get("tags") or ())
    associations = tuple(parse_association(item, now)
                         for item in body.get("resource_type_associations") or ())
    for kind, values in (("object", objects), ("tag", tags), ("resource type", associations)):
        require_unique(kind, [v.name for v in values])
    return Contents(header, properties, objects, tags, associations)


def parse_property(body: Any) -> Property:
    """A property definition from a body.

    Raises:
        Invalid: the body breaks the property schema or the definition is inconsistent.
    """
    _check_body("property", body)
    definition = {k: v for k, v in body.items() if k != "name"}
    prop = Property(body["name"], definition)
    check_definition(prop.name, prop.definition)
    return prop


def parse_object(body: Any, now: str) -> MetadefObject:
    """An object from a body; its property definitions are checked one by one.

    Raises:
        Invalid: the body breaks the object schema, a definition is invalid, or `required`
            names a property the object does not define.
        Forbidden: the body sets a read-only field.
    """
    _check_body("object", body)
    properties = dict(body.get("properties") or {})
    for name, definition in properties.items():
        check_definition(name, definition)
    required = tuple(body.get("required") or ())
    missing = sorted(set(required) - set(properties))
    if missing:
        raise Invalid(f"Object '{body['name']}' requires undefined properties: "
                      f"{', '.join(missing)}")
    return MetadefObject(body["name"], body.get("description"), required, properties, now, now)


def parse_tag_names(body: Any) -> list[str]:
    """The names of a bulk tag create, in order.

    Raises:
        Invalid: the body is not `{"tags": [{"name": ...}, ...]}`.
        Conflict: a name appears twice (Glance creates none of them then).
    """
    _check_body("tags_body", body)
    names = [item["name"] for item in body["tags"]]
    require_unique("tag", names)
    return names


def parse_tag_rename(body: Any) -> str:
    """The new name from a tag PUT body.

    Raises:
        Invalid: the body breaks the tag schema.
        Forbidden: the body sets a read-only field.
    """
    _check_body("tag", body)
    return body["name"]


def parse_association(body: Any, now: str) -> Association:
    """A resource type association from a body.

    Raises:
        Invalid: the body breaks the resource type schema.
        Forbidden: the body sets a read-only field.
    """
    _check_body("resource_type", body)
    return Association(body["name"], body.get("prefix"), body.get("properties_target"), now, now)


def check_definition(name: str, definition: Mapping[str, Any]) -> None:
    """Check that a property definition is a usable JSON-schema fragment: its shape (the
    schema's format checker compiles `pattern`), bounds in order, enum values and default
    of the declared type.

    Raises:
        Invalid: says which property and what is wrong.
    """
    require_valid("property", {**definition, "name": name})
    for low, high in _BOUNDS:
        if low in definition and high in definition and definition[low] > definition[high]:
            raise Invalid(f"Invalid property definition '{name}': {low} {definition[low]} is "
                          f"greater than {high} {definition[high]}.")
    value_schema = {k: v for k, v in definition.items() if k not in ("default", "enum")}
    _check_values(name, "enum", definition.get("enum", ()), value_schema)
    if "default" in definition:
        _check_values(name, "default", [definition["default"]], {**value_schema,
                      **({"enum": definition["enum"]} if "enum" in definition else {})})
    items = definition.get("items") or {}
    _check_values(name, "items.enum", items.get("enum", ()),
                  {"type": items["type"]} if "type" in items else {})


def _check_values(name: str, keyword: str, values: Iterable[Any], schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(schema)
    for value in values:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            raise Invalid(f"Invalid property definition '{name}': {keyword} value {value!r} "
                          f"does not fit the definition: {error.message}")


def require_unique(kind: str, names: list[str]) -> None:
    """Names inside one request must differ.

    Raises:
        Conflict: a name appears twice.
    """
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise Conflict(f"Duplicate {kind} name '{name}' in request.")
        seen.add(name)


def _check_body(schema_name: str, body: Any) -> None:
    if not isinstance(body, Mapping):
        raise Invalid("Request body must be a JSON object.")
    for key in _READ_ONLY:
        if key in body:
            raise Forbidden(f"Attribute '{key}' is read-only.")
    require_valid(schema_name, body)


def with_prefix(contents: Contents, resource_type: str) -> Contents:
    """The namespace as a resource type sees it: property names carry the association's prefix."""
    prefix = next((a.prefix for a in contents.associations if a.name == resource_type), None)
    if not prefix:
        return contents
    properties = tuple(Property(prefix + p.name, p.definition) for p in contents.properties)
    objects = tuple(MetadefObject(o.name, o.description, tuple(prefix + r for r in o.required),
                                  {prefix + k: v for k, v in o.properties.items()},
                                  o.created_at, o.updated_at) for o in contents.objects)
    return Contents(contents.namespace, properties, objects, contents.tags, contents.associations)
