"""Metadefs: namespaces, resource types and their associations, the schemas, and the loader."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib import logs
from chalicelib.api import metadefs_render as render
from chalicelib.api.routing import (base_url, json_body, json_response, no_content,
                                    query_params, route)
from chalicelib.db import metadefs as db
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid
from chalicelib.domain.metadefs_query import parse_namespace_query
from chalicelib.domain.metadefs_schemas import schema
from chalicelib.services import metadefs as service

bp = Blueprint(__name__)
# Lambda loads this module itself (not app.py) for its functions: set up logging here too.
logs.configure()
NAMESPACE = "/v2/metadefs/namespaces/{namespace}"
# The identity the one-off loader function acts as: it is run by operators, never by users.
_LOADER_CONTEXT = RequestContext(project_id="admin", user_id="metadefs-loader",
                                 roles=frozenset({"admin"}), request_id="metadefs-loader")


@route(bp, "/v2/metadefs/namespaces", methods=("POST",))
def create_namespace(ctx: RequestContext) -> Response:
    """201 with the namespace (and any contents it was created with) and its `Location`."""
    contents = service.create_namespace(ctx, json_body(bp))
    href = render.namespace_href(contents.namespace.namespace)
    return json_response(render.contents(contents), status=201,
                         headers={"Location": f"{base_url(bp)}{href}"})


@route(bp, "/v2/metadefs/namespaces")
def list_namespaces(ctx: RequestContext) -> Response:
    """One page of the namespaces the caller may see."""
    params = query_params(bp)
    page = service.list_namespaces(ctx, parse_namespace_query(params))
    return json_response(render.namespace_list(page, params))


@route(bp, NAMESPACE)
def show_namespace(ctx: RequestContext, namespace: str) -> Response:
    """A namespace with its contents; `?resource_type=` applies that type's prefix."""
    resource_type = query_params(bp).get("resource_type") or None
    return json_response(render.contents(
        service.get_namespace(ctx, namespace, resource_type)))


@route(bp, NAMESPACE, methods=("PUT",))
def update_namespace(ctx: RequestContext, namespace: str) -> Response:
    """200 with the new header."""
    updated = service.update_namespace(ctx, namespace, json_body(bp))
    return json_response(render.namespace(updated))


@route(bp, NAMESPACE, methods=("DELETE",))
def delete_namespace(ctx: RequestContext, namespace: str) -> Response:
    """204; everything in the namespace goes with it."""
    service.delete_namespace(ctx, namespace)
    return no_content()


@route(bp, "/v2/metadefs/resource_types")
def list_resource_types(ctx: RequestContext) -> Response:
    """Every resource type."""
    return json_response(render.resource_type_list(service.list_resource_types(ctx)))


@route(bp, f"{NAMESPACE}/resource_types")
def list_associations(ctx: RequestContext, namespace: str) -> Response:
    """The namespace's resource type associations."""
    page = service.list_children(ctx, namespace, db.ASSOCIATIONS)
    return json_response(render.association_list(page))


@route(bp, f"{NAMESPACE}/resource_types", methods=("POST",))
def create_association(ctx: RequestContext, namespace: str) -> Response:
    """201 with the association."""
    association = service.create_association(ctx, namespace, json_body(bp))
    return json_response(render.association(association), status=201)


@route(bp, f"{NAMESPACE}/resource_types/{{name}}", methods=("DELETE",))
def delete_association(ctx: RequestContext, namespace: str, name: str) -> Response:
    """204."""
    service.delete_child(ctx, namespace, db.ASSOCIATIONS, name)
    return no_content()


@route(bp, "/v2/schemas/metadefs/{name}")
def show_schema(ctx: RequestContext, name: str) -> Response:
    """One of the ten metadefs schemas."""
    return json_response(schema(name))


@bp.lambda_function(name="metadefs_loader")
def load_catalog(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One-off import of catalog files: `{"catalog": [namespace document, ...]}`.

    Raises:
        Invalid: the event carries no catalog list, or a document is invalid.
    """
    catalog = event.get("catalog") if isinstance(event, dict) else None
    if not isinstance(catalog, list):
        raise Invalid('The event must be {"catalog": [namespace document, ...]}.')
    return service.import_catalog(_LOADER_CONTEXT, catalog)
