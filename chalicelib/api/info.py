"""Discovery: import methods, stores and the caller's quota usage (`/v2/info/*`)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import json_response, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import discovery as service

bp = Blueprint(__name__)


@route(bp, "/v2/info/import")
def show_import_info(ctx: RequestContext) -> Response:
    """The import methods offered, in Glance's discovery shape."""
    return json_response({"import-methods": {"description": "Import methods available.",
                                             "type": "array",
                                             "value": list(service.import_methods())}})


@route(bp, "/v2/info/stores")
def list_stores(ctx: RequestContext) -> Response:
    """The stores; only the default one carries `"default": true`, and the http stores
    `"read-only": "true"`, as in Glance."""
    return json_response({"stores": [
        {"id": s.id, "description": s.description, **({"default": True} if s.default else {}),
         **({"read-only": "true"} if s.read_only else {})}
        for s in service.stores()]})


@route(bp, "/v2/info/usage")
def show_usage(ctx: RequestContext) -> Response:
    """The caller's project usage and limits (-1: unlimited)."""
    return json_response({"usage": {name: {"limit": q.limit, "usage": q.usage}
                                    for name, q in service.quotas(ctx).items()}})
