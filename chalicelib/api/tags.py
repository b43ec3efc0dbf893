"""Image tags: add and remove one tag."""
from __future__ import annotations


from chalice import Blueprint, Response

from chalicelib.api.routing import no_content, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import tags as service

bp = Blueprint(__name__)
PATH = "/v2/images/{image_id}/tags/{tag}"


@route(bp, PATH, methods=("PUT",))
def add_tag(ctx: RequestContext, image_id: str, tag: str) -> Response:
    """204, whether or not the image already had the tag."""
    service.add_tag(ctx, image_id, tag)
    return no_content()


@route(bp, PATH, methods=("DELETE",))
def remove_tag(ctx: RequestContext, image_id: str, tag: str) -> Response:
    """204; 404 when the image has no such tag."""
    service.remove_tag(ctx, image_id, tag)
    return no_content()
