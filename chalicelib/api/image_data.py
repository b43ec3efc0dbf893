"""Image data through the API (Glance's calls): upload, stage, import."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import json_body, json_response, no_content, route
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid
from chalicelib.services import image_data as service

bp = Blueprint(__name__)


def _body_and_size() -> tuple[bytes, int | None]:
    request = bp.current_request
    raw = request.raw_body or b""
    data = raw.encode() if isinstance(raw, str) else raw
    header = request.headers.get("x-openstack-image-size")
    if header is not None and not header.isdigit():
        raise Invalid("x-openstack-image-size must be a number of bytes.")
    return data, int(header) if header is not None else None


@route(bp, "/v2/images/{image_id}/file", methods=("PUT",))
def upload(ctx: RequestContext, image_id: str) -> Response:
    """204 once the data is verified and the image active."""
    service.upload_file(ctx, image_id, *_body_and_size())
    return no_content()


@route(bp, "/v2/images/{image_id}/stage", methods=("PUT",))
def stage(ctx: RequestContext, image_id: str) -> Response:
    """204; the image is `uploading` until a glance-direct import."""
    service.stage(ctx, image_id, *_body_and_size())
    return no_content()


@route(bp, "/v2/images/{image_id}/import", methods=("POST",))
def import_image(ctx: RequestContext, image_id: str) -> Response:
    """202; the worker verifies and activates."""
    service.import_image(ctx, image_id, json_body(bp))
    return json_response({}, status=202)
