"""Metadefs use cases: each calls policy, db and events in order, top to bottom."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from chalicelib import events
from chalicelib.db import metadefs as db
from chalicelib.domain import metadefs_policy as policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.image import utcnow
from chalicelib.domain.metadefs import (Association, Contents, MetadefObject, Namespace, Property,
                                        ResourceType, Tag, parse_association, parse_namespace,
                                        parse_namespace_header, parse_object,
                                        parse_property, parse_tag_names,
                                        parse_tag_rename, require_unique, with_prefix)
from chalicelib.domain.metadefs_query import MetadefQuery, Page, paginate

log = logging.getLogger(__name__)

# The notification family of each kind, and the namespace event for deleting them all.
_EVENT_KIND = {db.OBJECTS: events.METADEF_OBJECT, db.PROPERTIES: events.METADEF_PROPERTY,
               db.TAGS: events.METADEF_TAG, db.ASSOCIATIONS: events.METADEF_RESOURCE_TYPE}
_DELETE_ALL_EVENT = {db.OBJECTS: "delete_objects", db.PROPERTIES: "delete_properties",
                     db.TAGS: "delete_tags"}


@dataclass(frozen=True, slots=True)
class Listed:
    """A namespace as a list shows it: the header and its resource type associations."""

    namespace: Namespace
    associations: tuple[Association, ...]


# --- namespaces -------------------------------------------------------------------------------

def create_namespace(ctx: RequestContext, body: Any) -> Contents:
    """`POST /v2/metadefs/namespaces`: a namespace, with any contents the body carries.

    Raises:
        Forbidden: the caller is not an admin, or the body sets a read-only field.
        Invalid: the body is not a valid namespace.
        Conflict: the name is taken.
    """
    policy.require_admin(ctx, "add_metadef_namespace")
    contents = parse_namespace(ctx, body, utcnow())
    db.create_namespace(contents)
    for association in contents.associations:
        _ensure_resource_type(association)
    _publish(events.METADEF_NAMESPACE, "create", contents.namespace.namespace,
             asdict(contents.namespace))
    return contents


def list_namespaces(ctx: RequestContext, query: MetadefQuery) -> Page:
    """The namespaces the caller may see, filtered, sorted and paged as Glance does.

    Raises:
        NotFound: the marker names no visible namespace.
    """
    visible = [ns for ns in db.list_namespaces() if policy.can_see(ctx, ns)]
    if query.visibility:
        visible = [ns for ns in visible if ns.visibility == query.visibility]
    if query.resource_types:
        wanted = db.namespaces_for_resource_types(query.resource_types)
        visible = [ns for ns in visible if ns.namespace in wanted]
    page = paginate(visible, query, lambda ns: ns.namespace)
    entries = [Listed(ns, tuple(db.list_children(ns.namespace, db.ASSOCIATIONS)))
               for ns in page.entries]
    return Page(entries, page.next_marker)


def get_namespace(ctx: RequestContext, name: str, resource_type: str | None = None) -> Contents:
    """A namespace with all its contents; with `resource_type`, names carry its prefix.

    Raises:
        NotFound: no such namespace, or another project's private one.
    """
    contents = db.get_contents(name)
    policy.require_visible(ctx, contents.namespace)
    return with_prefix(contents, resource_type) if resource_type else contents


def update_namespace(ctx: RequestContext, name: str, body: Any) -> Namespace:
    """`PUT`: replace the header (unset fields take their defaults); contents stay.

    Raises:
        NotFound: the namespace is not visible. Forbidden: the caller is not an admin.
        Invalid: the body is not a valid namespace. Conflict: a rename onto a taken name.
    """
    old = _visible(ctx, name)
    policy.require_admin(ctx, "modify_metadef_namespace")
    updated = replace(parse_namespace_header(ctx, body, utcnow()), created_at=old.created_at)
    db.replace_namespace(name, updated)
    _publish(events.METADEF_NAMESPACE, "update", updated.namespace,
             {**asdict(updated), "namespace_old": name})
    return updated


def delete_namespace(ctx: RequestContext, name: str) -> None:
    """`DELETE`: the namespace and everything in it.

    Raises:
        NotFound: not visible. Forbidden: not an admin, or the namespace is protected.
    """
    namespace = _visible(ctx, name)
    policy.require_admin(ctx, "delete_metadef_namespace")
    policy.require_unprotected(namespace, "the namespace")
    db.delete_namespace(name)
    _publish(events.METADEF_NAMESPACE, "delete", name, asdict(namespace))
    log.info("metadef namespace deleted", extra={"namespace": name, "project": ctx.project_id})


def delete_all(ctx: RequestContext, name: str, kind: db.Kind) -> None:
    """`DELETE .../objects|properties|tags`: every child of that kind.

    Raises:
        NotFound: not visible. Forbidden: not an admin, or the namespace is protected.
    """
    namespace = _writable(ctx, name, f"delete_metadef_{kind.label}s")
    policy.require_unprotected(namespace, f"its {kind.label}s")
    db.delete_children(name, kind)
    _publish(events.METADEF_NAMESPACE, _DELETE_ALL_EVENT[kind], name, {})


# --- objects, properties, tags ----------------------------------------------------------------

def list_children(ctx: RequestContext, name: str, kind: db.Kind,
                  query: MetadefQuery | None = None) -> Page:
    """The objects, properties, tags or associations of a visible namespace.

    Raises:
        NotFound: the namespace is not visible, or the marker names no child.
    """
    _visible(ctx, name)
    children = db.list_children(name, kind)
    return paginate(children, query, lambda c: c.name) if query else Page(children, None)


def get_child(ctx: RequestContext, name: str, kind: db.Kind, child: str) -> Any:
    """One object, property or tag of a visible namespace.

    Raises:
        NotFound: the namespace is not visible or has no such child.
    """
    _visible(ctx, name)
    return db.get_child(name, kind, child)


def get_property(ctx: RequestContext, name: str, prop: str, resource_type: str | None) -> Property:
    """A property; with `resource_type`, `prop` is looked up without that type's prefix.

    Raises:
        NotFound: not visible, no such property, or `prop` lacks the type's prefix.
    """
    _visible(ctx, name)
    if resource_type:
        prefix = next((a.prefix for a in db.list_children(name, db.ASSOCIATIONS)
                       if a.name == resource_type), None) or ""
        if not prop.startswith(prefix):
            raise NotFound(f"Property {prop} does not start with the expected resource type "
                           f"association prefix of '{prefix}'.")
        return db.get_child(name, db.PROPERTIES, prop.removeprefix(prefix))
    return db.get_child(name, db.PROPERTIES, prop)


def create_object(ctx: RequestContext, name: str, body: Any) -> MetadefObject:
    """`POST .../objects`.

    Raises:
        NotFound: not visible. Forbidden: not an admin. Invalid: a bad object. Conflict: taken.
    """
    _writable(ctx, name, "add_metadef_object")
    return _add(name, db.OBJECTS, parse_object(body, utcnow()))


def create_property(ctx: RequestContext, name: str, body: Any) -> Property:
    """`POST .../properties`.

    Raises:
        NotFound: not visible. Forbidden: not an admin. Invalid: a bad definition.
        Conflict: the name is taken.
    """
    _writable(ctx, name, "add_metadef_property")
    return _add(name, db.PROPERTIES, parse_property(body))


def create_tag(ctx: RequestContext, name: str, tag: str) -> Tag:
    """`POST .../tags/{tag}` (no body).

    Raises:
        NotFound: not visible. Forbidden: not an admin. Conflict: the tag exists.
    """
    _writable(ctx, name, "add_metadef_tag")
    now = utcnow()
    return _add(name, db.TAGS, Tag(tag, now, now))


def create_tags(ctx: RequestContext, name: str, body: Any, append: bool) -> list[Tag]:
    """`POST .../tags`: these tags replace the namespace's, or join them with `append`.

    Raises:
        NotFound: not visible. Forbidden: not an admin. Invalid: a bad body.
        Conflict: a name repeats, or (appending) already exists; nothing is written then.
    """
    _writable(ctx, name, "add_metadef_tags")
    now = utcnow()
    tags = [Tag(tag, now, now) for tag in parse_tag_names(body)]
    db.add_children(name, db.TAGS, tags, replace=not append)
    for tag in tags:
        _publish(events.METADEF_TAG, "create", name, asdict(tag))
    return tags


def update_object(ctx: RequestContext, name: str, obj: str, body: Any) -> MetadefObject:
    """`PUT .../objects/{name}`: replace (and maybe rename) an object.

    Raises:
        NotFound: not visible or no such object. Forbidden: not an admin.
        Invalid: a bad object. Conflict: a rename onto a taken name.
    """
    _writable(ctx, name, "modify_metadef_object")
    return _replace(name, db.OBJECTS, obj, parse_object(body, utcnow()))


def update_property(ctx: RequestContext, name: str, prop: str, body: Any) -> Property:
    """`PUT .../properties/{name}`: replace (and maybe rename) a property definition.

    Raises:
        NotFound: not visible or no such property. Forbidden: not an admin.
        Invalid: a bad definition. Conflict: a rename onto a taken name.
    """
    _writable(ctx, name, "modify_metadef_property")
    return _replace(name, db.PROPERTIES, prop, parse_property(body))


def update_tag(ctx: RequestContext, name: str, tag: str, body: Any) -> Tag:
    """`PUT .../tags/{name}`: rename a tag.

    Raises:
        NotFound: not visible or no such tag. Forbidden: not an admin.
        Invalid: a bad body. Conflict: the new name is taken.
    """
    _writable(ctx, name, "modify_metadef_tag")
    new_name = parse_tag_rename(body)
    now = utcnow()
    return _replace(name, db.TAGS, tag, Tag(new_name, now, now))


def delete_child(ctx: RequestContext, name: str, kind: db.Kind, child: str) -> None:
    """`DELETE` one object, property, tag or resource type association.

    Raises:
        NotFound: not visible, or no such child. Forbidden: not an admin, or protected.
    """
    namespace = _writable(ctx, name, f"remove_metadef_{kind.label}")
    policy.require_unprotected(namespace, f"its {kind.label} {child}")
    old = db.get_child(name, kind, child)
    db.delete_child(name, kind, child)
    _publish(_EVENT_KIND[kind], "delete", name, asdict(old))


# --- resource types ---------------------------------------------------------------------------

def list_resource_types(ctx: RequestContext) -> list[ResourceType]:
    """`GET /v2/metadefs/resource_types`: every known resource type (readable by anyone)."""
    return db.list_resource_types()


def create_association(ctx: RequestContext, name: str, body: Any) -> Association:
    """`POST .../resource_types`: associate; an unknown resource type springs into being.

    Raises:
        NotFound: not visible. Forbidden: not an admin. Invalid: a bad body.
        Conflict: the namespace is already associated with that type.
    """
    _writable(ctx, name, "add_metadef_resource_type_association")
    association = _add(name, db.ASSOCIATIONS, parse_association(body, utcnow()))
    _ensure_resource_type(association)
    return association


# --- catalog import ---------------------------------------------------------------------------

def import_catalog(ctx: RequestContext, documents: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Load namespace documents in Glance's metadef file format; a re-run changes nothing.

    A namespace that exists and differs is replaced whole (protection does not stop the
    loader: it is an operator's tool, as `glance-manage db_load_metadefs` is).

    Raises:
        Forbidden: the caller is not an admin.
        Invalid: a document is not a valid namespace (nothing after it is loaded).
    """
    policy.require_admin(ctx, "load_metadefs")
    summary: dict[str, list[str]] = {"created": [], "replaced": [], "unchanged": []}
    require_unique("namespace", [str(d.get("namespace")) for d in documents])
    for document in documents:
        body = {k: v for k, v in document.items() if k not in ("created_at", "updated_at")}
        wanted = parse_namespace(ctx, {**body, "owner": body.get("owner") or ctx.project_id},
                                 utcnow())
        name = wanted.namespace.namespace
        try:
            current = db.get_contents(name)
        except NotFound:
            create_namespace(ctx, body)
            summary["created"].append(name)
            continue
        if _same(current, wanted):
            summary["unchanged"].append(name)
            continue
        db.delete_namespace(name)
        create_namespace(ctx, body)
        summary["replaced"].append(name)
    return summary


# --- helpers ----------------------------------------------------------------------------------

def _visible(ctx: RequestContext, name: str) -> Namespace:
    return policy.require_visible(ctx, db.get_namespace(name))


def _writable(ctx: RequestContext, name: str, action: str) -> Namespace:
    namespace = _visible(ctx, name)
    policy.require_admin(ctx, action)
    return namespace


def _add(name: str, kind: db.Kind, value: Any) -> Any:
    db.add_child(name, kind, value)
    _publish(_EVENT_KIND[kind], "create", name, asdict(value))
    return value


def _replace(name: str, kind: db.Kind, old_name: str, value: Any) -> Any:
    old = db.get_child(name, kind, old_name)
    kept = replace(value, created_at=old.created_at) if hasattr(old, "created_at") else value
    db.replace_child(name, kind, old_name, kept)
    _publish(_EVENT_KIND[kind], "update", name, {**asdict(kept), "name_old": old_name})
    return kept


def _ensure_resource_type(association: Association) -> None:
    db.ensure_resource_type(ResourceType(association.name, association.created_at,
                                         association.created_at))


def _same(current: Contents, wanted: Contents) -> bool:
    """Equal but for timestamps (the loader's idempotence test)."""
    def shape(contents: Contents) -> Any:
        header = {k: v for k, v in asdict(contents.namespace).items()
                  if k not in ("created_at", "updated_at")}
        parts = [sorted((_untimed(asdict(v)) for v in values), key=lambda d: d["name"])
                 for values in (contents.properties, contents.objects, contents.tags,
                                contents.associations)]
        return header, parts
    return shape(current) == shape(wanted)


def _untimed(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("created_at", "updated_at")}


def _publish(kind: str, action: str, namespace: str, payload: dict[str, Any]) -> None:
    events.publish(f"{kind}.{action}", {"namespace": namespace, **payload})
