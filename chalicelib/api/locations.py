"""Image locations (Images API 2.17): add one (service-to-service, or users with an http
store), list them (the service role)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import json_body, json_response, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import locations as service

bp = Blueprint(__name__)
PATH = "/v2/images/{image_id}/locations"


@route(bp, PATH, methods=("POST",))
def add_location(ctx: RequestContext, image_id: str) -> Response:
    """202; the worker hashes the data and activates the image (a `location_import` task)."""
    service.add_location(ctx, image_id, json_body(bp))
    return Response(body="", status_code=202)


@route(bp, PATH)
def get_locations(ctx: RequestContext, image_id: str) -> Response:
    """The image's locations, each its URL and store."""
    return json_response(service.get_locations(ctx, image_id))
