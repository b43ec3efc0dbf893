"""Image deprecation (Glint extension, docs/families.md); family resolution is a form of
`GET /v2/images` (api/images)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import render
from chalicelib.api.routing import json_body, json_response, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import families as service

bp = Blueprint(__name__)


@route(bp, "/v2/images/{image_id}/actions/deprecate", methods=("POST",))
def deprecate_image(ctx: RequestContext, image_id: str) -> Response:
    """200 with the image, now carrying os_glint_deprecated_at (and os_glint_replacement_id)."""
    return json_response(render.image(ctx, service.deprecate(ctx, image_id, json_body(bp, required=False))))
