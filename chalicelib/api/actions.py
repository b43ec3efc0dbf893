"""Image actions: deactivate and reactivate."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import no_content, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import actions as service
from chalicelib.services import images

bp = Blueprint(__name__)


@route(bp, "/v2/images/{image_id}/actions/deactivate", methods=("POST",))
def deactivate_image(ctx: RequestContext, image_id: str) -> Response:
    """204; also when the image already is deactivated."""
    service.deactivate_image(ctx, image_id)
    return no_content()


@route(bp, "/v2/images/{image_id}/actions/restore", methods=("POST",))
def restore_image(ctx: RequestContext, image_id: str) -> Response:
    """204: a pending_delete image is active again (Glint extension, admins only)."""
    images.restore_image(ctx, image_id)
    return no_content()


@route(bp, "/v2/images/{image_id}/actions/reactivate", methods=("POST",))
def reactivate_image(ctx: RequestContext, image_id: str) -> Response:
    """204; also when the image already is active."""
    service.reactivate_image(ctx, image_id)
    return no_content()
