"""Metadefs: the objects, properties and tags inside a namespace."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import metadefs_render as render
from chalicelib.api.metadefs import NAMESPACE
from chalicelib.api.routing import json_body, json_response, no_content, query_params, route
from chalicelib.db import metadefs as db
from chalicelib.domain.context import RequestContext
from chalicelib.domain.metadefs_query import parse_child_query
from chalicelib.services import metadefs as service

bp = Blueprint(__name__)
OBJECTS, PROPERTIES, TAGS = f"{NAMESPACE}/objects", f"{NAMESPACE}/properties", f"{NAMESPACE}/tags"
_TRUE = ("true", "1", "yes", "on")


def _delete_all(ctx: RequestContext, namespace: str, kind: db.Kind) -> Response:
    service.delete_all(ctx, namespace, kind)
    return no_content()


def _delete_one(ctx: RequestContext, namespace: str, kind: db.Kind, name: str) -> Response:
    service.delete_child(ctx, namespace, kind, name)
    return no_content()


# --- objects ----------------------------------------------------------------------------------

@route(bp, OBJECTS)
def list_objects(ctx: RequestContext, namespace: str) -> Response:
    """The namespace's objects (limit, marker, sort_key, sort_dir)."""
    params = query_params(bp)
    page = service.list_children(ctx, namespace, db.OBJECTS, parse_child_query(params))
    return json_response(render.object_list(namespace, page, params))


@route(bp, OBJECTS, methods=("POST",))
def create_object(ctx: RequestContext, namespace: str) -> Response:
    """201 with the object."""
    obj = service.create_object(ctx, namespace, json_body(bp))
    return json_response(render.metadef_object(namespace, obj), status=201)


@route(bp, OBJECTS, methods=("DELETE",))
def delete_objects(ctx: RequestContext, namespace: str) -> Response:
    """204; every object of the namespace is gone."""
    return _delete_all(ctx, namespace, db.OBJECTS)


@route(bp, f"{OBJECTS}/{{name}}")
def show_object(ctx: RequestContext, namespace: str, name: str) -> Response:
    """One object."""
    return json_response(render.metadef_object(
        namespace, service.get_child(ctx, namespace, db.OBJECTS, name)))


@route(bp, f"{OBJECTS}/{{name}}", methods=("PUT",))
def update_object(ctx: RequestContext, namespace: str, name: str) -> Response:
    """200 with the object as replaced."""
    obj = service.update_object(ctx, namespace, name, json_body(bp))
    return json_response(render.metadef_object(namespace, obj))


@route(bp, f"{OBJECTS}/{{name}}", methods=("DELETE",))
def delete_object(ctx: RequestContext, namespace: str, name: str) -> Response:
    """204."""
    return _delete_one(ctx, namespace, db.OBJECTS, name)


# --- properties -------------------------------------------------------------------------------

@route(bp, PROPERTIES)
def list_properties(ctx: RequestContext, namespace: str) -> Response:
    """The namespace's properties, as a map from name to definition."""
    return json_response(render.property_map(
        service.list_children(ctx, namespace, db.PROPERTIES)))


@route(bp, PROPERTIES, methods=("POST",))
def create_property(ctx: RequestContext, namespace: str) -> Response:
    """201 with the property definition."""
    prop = service.create_property(ctx, namespace, json_body(bp))
    return json_response(render.metadef_property(prop), status=201)


@route(bp, PROPERTIES, methods=("DELETE",))
def delete_properties(ctx: RequestContext, namespace: str) -> Response:
    """204; every property of the namespace is gone."""
    return _delete_all(ctx, namespace, db.PROPERTIES)


@route(bp, f"{PROPERTIES}/{{name}}")
def show_property(ctx: RequestContext, namespace: str, name: str) -> Response:
    """One property; with `?resource_type=`, `name` carries that type's prefix."""
    prop = service.get_property(ctx, namespace, name,
                                query_params(bp).get("resource_type") or None)
    return json_response(render.metadef_property(prop))


@route(bp, f"{PROPERTIES}/{{name}}", methods=("PUT",))
def update_property(ctx: RequestContext, namespace: str, name: str) -> Response:
    """200 with the definition as replaced."""
    prop = service.update_property(ctx, namespace, name, json_body(bp))
    return json_response(render.metadef_property(prop))


@route(bp, f"{PROPERTIES}/{{name}}", methods=("DELETE",))
def delete_property(ctx: RequestContext, namespace: str, name: str) -> Response:
    """204."""
    return _delete_one(ctx, namespace, db.PROPERTIES, name)


# --- tags -------------------------------------------------------------------------------------

@route(bp, TAGS)
def list_tags(ctx: RequestContext, namespace: str) -> Response:
    """The namespace's tags (limit, marker, sort_key, sort_dir)."""
    params = query_params(bp)
    page = service.list_children(ctx, namespace, db.TAGS, parse_child_query(params))
    return json_response(render.tag_list(namespace, page, params))


@route(bp, TAGS, methods=("POST",))
def create_tags(ctx: RequestContext, namespace: str) -> Response:
    """201; the tags replace the namespace's unless `X-Openstack-Append: True`."""
    append = bp.current_request.headers.get("x-openstack-append", "").strip().lower() in _TRUE
    tags = service.create_tags(ctx, namespace, json_body(bp), append)
    return json_response(render.created_tags(tags), status=201)


@route(bp, TAGS, methods=("DELETE",))
def delete_tags(ctx: RequestContext, namespace: str) -> Response:
    """204; every tag of the namespace is gone."""
    return _delete_all(ctx, namespace, db.TAGS)


@route(bp, f"{TAGS}/{{name}}")
def show_tag(ctx: RequestContext, namespace: str, name: str) -> Response:
    """One tag."""
    return json_response(render.tag(
        service.get_child(ctx, namespace, db.TAGS, name)))


@route(bp, f"{TAGS}/{{name}}", methods=("POST",))
def create_tag(ctx: RequestContext, namespace: str, name: str) -> Response:
    """201 with the tag (no request body)."""
    return json_response(render.tag(
        service.create_tag(ctx, namespace, name)), status=201)


@route(bp, f"{TAGS}/{{name}}", methods=("PUT",))
def update_tag(ctx: RequestContext, namespace: str, name: str) -> Response:
    """200 with the renamed tag."""
    tag = service.update_tag(ctx, namespace, name, json_body(bp))
    return json_response(render.tag(tag))


@route(bp, f"{TAGS}/{{name}}", methods=("DELETE",))
def delete_tag(ctx: RequestContext, namespace: str, name: str) -> Response:
    """204."""
    return _delete_one(ctx, namespace, db.TAGS, name)
