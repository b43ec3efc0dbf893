"""Metadefs domain values -> the JSON bodies Glance clients expect (unset fields left out)."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from chalicelib.domain.image import wire_time
from chalicelib.domain.metadefs import (Association, Contents, MetadefObject, Namespace, Property,
                                        ResourceType, Tag)
from chalicelib.domain.metadefs_query import Page
from chalicelib.services.metadefs import Listed

BASE = "/v2/metadefs/namespaces"


def namespace_href(name: str) -> str:
    """The namespace's own path."""
    return f"{BASE}/{name}"


def namespace(ns: Namespace) -> dict[str, Any]:
    """A namespace header with its links."""
    doc = _present({"namespace": ns.namespace, "display_name": ns.display_name,
                    "description": ns.description, "visibility": ns.visibility,
                    "protected": ns.protected, "owner": ns.owner})
    doc.update(_times(ns), schema="/v2/schemas/metadefs/namespace",
               self=namespace_href(ns.namespace))
    return doc


def contents(c: Contents) -> dict[str, Any]:
    """A namespace with whatever it contains (empty parts left out, as Glance does)."""
    doc = namespace(c.namespace)
    parts = {"resource_type_associations": [association(a) for a in c.associations],
             "properties": {p.name: p.definition for p in c.properties},
             "objects": [metadef_object(c.namespace.namespace, o) for o in c.objects],
             "tags": [tag(t) for t in c.tags]}
    doc.update({key: value for key, value in parts.items() if value})
    return doc


def namespace_list(page: Page, query: dict[str, str]) -> dict[str, Any]:
    """A page of namespaces; `first` and `next` keep the query."""
    params = {k: v for k, v in query.items() if k != "marker"}
    body: dict[str, Any] = {"namespaces": [_listed(e) for e in page.entries],
                            "first": f"{BASE}?{urlencode(params)}" if params else BASE,
                            "schema": "/v2/schemas/metadefs/namespaces"}
    if page.next_marker:
        body["next"] = f"{BASE}?{urlencode({**params, 'marker': page.next_marker})}"
    return body


def _listed(entry: Listed) -> dict[str, Any]:
    doc = namespace(entry.namespace)
    if entry.associations:
        doc["resource_type_associations"] = [association(a) for a in entry.associations]
    return doc


def metadef_object(ns: str, obj: MetadefObject) -> dict[str, Any]:
    """An object with its links."""
    doc = _present({"name": obj.name, "description": obj.description})
    doc.update(required=list(obj.required), properties=obj.properties, **_times(obj),
               schema="/v2/schemas/metadefs/object", self=f"{BASE}/{ns}/objects/{obj.name}")
    return doc


def object_list(ns: str, page: Page, query: dict[str, str]) -> dict[str, Any]:
    """A namespace's objects."""
    body: dict[str, Any] = {"objects": [metadef_object(ns, o) for o in page.entries],
                            "schema": "/v2/schemas/metadefs/objects"}
    return _with_next(body, f"{BASE}/{ns}/objects", page, query)


def metadef_property(prop: Property) -> dict[str, Any]:
    """A property definition, named."""
    return {"name": prop.name, **prop.definition}


def property_map(page: Page) -> dict[str, Any]:
    """A namespace's properties: a map from name to definition."""
    return {"properties": {p.name: p.definition for p in page.entries}}


def tag(t: Tag) -> dict[str, Any]:
    """A tag."""
    return {"name": t.name, **_times(t)}


def tag_list(ns: str, page: Page, query: dict[str, str]) -> dict[str, Any]:
    """A namespace's tags."""
    return _with_next({"tags": [tag(t) for t in page.entries]}, f"{BASE}/{ns}/tags", page, query)


def created_tags(tags: list[Tag]) -> dict[str, Any]:
    """The answer to a bulk tag create: the tags just created."""
    return {"tags": [{"name": t.name} for t in tags]}


def association(a: Association) -> dict[str, Any]:
    """A resource type association."""
    return {**_present({"name": a.name, "prefix": a.prefix,
                        "properties_target": a.properties_target}), **_times(a)}


def association_list(page: Page) -> dict[str, Any]:
    """A namespace's resource type associations."""
    return {"resource_type_associations": [association(a) for a in page.entries]}


def resource_type_list(types: list[ResourceType]) -> dict[str, Any]:
    """Every resource type."""
    return {"resource_types": [{"name": t.name, **_times(t)} for t in types]}


def _with_next(body: dict[str, Any], path: str, page: Page, query: dict[str, str]) -> dict[str, Any]:
    if page.next_marker:
        params = {k: v for k, v in query.items() if k != "marker"}
        body["next"] = f"{path}?{urlencode({**params, 'marker': page.next_marker})}"
    return body


def _times(value: Any) -> dict[str, str]:
    return {"created_at": wire_time(value.created_at), "updated_at": wire_time(value.updated_at)}


def _present(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}
