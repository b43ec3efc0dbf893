"""Version discovery: what clients read first (`GET /`, `GET /versions`)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import base_url, json_response, route
from chalicelib.domain.context import RequestContext

bp = Blueprint(__name__)
CURRENT = "2.17"  # 2.17: the location API (api/locations.py)
SUPPORTED = [f"2.{minor}" for minor in range(17)]


def _versions() -> dict:
    href = f"{base_url(bp)}/v2/"
    entries = [(CURRENT, "CURRENT")] + [(v, "SUPPORTED") for v in reversed(SUPPORTED)]
    return {"versions": [{"id": f"v{v}", "status": status, "links": [{"rel": "self", "href": href}]}
                         for v, status in entries]}


@route(bp, "/", public=True)
def root(ctx: RequestContext) -> Response:
    """Glance answers the bare endpoint with 300 Multiple Choices."""
    return json_response(_versions(), status=300)


@route(bp, "/versions", public=True)
def versions(ctx: RequestContext) -> Response:
    """The version document."""
    return json_response(_versions())
