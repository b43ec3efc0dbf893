"""Direct-to-bucket uploads (Glint extension, see docs/direct-upload.md)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import render
from chalicelib.api.routing import json_body, json_response, no_content, query_params, route
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid
from chalicelib.services import uploads as service

bp = Blueprint(__name__)
_UPLOAD = "/v2/images/{image_id}/uploads/{upload_id}"


@route(bp, "/v2/images/{image_id}/uploads", methods=("POST",))
def start_upload(ctx: RequestContext, image_id: str) -> Response:
    """201 with a presigned PUT, or a multipart upload and its part URLs."""
    grant = service.start_upload(ctx, image_id, json_body(bp))
    return json_response(render.upload_grant(grant), status=201)


@route(bp, _UPLOAD)
def show_upload(ctx: RequestContext, image_id: str, upload_id: str) -> Response:
    """The pending upload with fresh URLs (from `?first_part=N`) and the parts S3 holds."""
    raw = query_params(bp).get("first_part", "1")
    if not raw.isdigit():
        raise Invalid("first_part must be a positive integer.")
    grant = service.describe_upload(ctx, image_id, upload_id, int(raw))
    return json_response(render.upload_grant(grant))


@route(bp, _UPLOAD + "/complete", methods=("POST",))
def complete_upload(ctx: RequestContext, image_id: str, upload_id: str) -> Response:
    """202: the parts are joined; the worker verifies and activates the image."""
    image = service.complete_upload(ctx, image_id, upload_id, json_body(bp))
    return json_response(render.image(ctx, image), status=202)


@route(bp, _UPLOAD, methods=("DELETE",))
def abort_upload(ctx: RequestContext, image_id: str, upload_id: str) -> Response:
    """204: the upload is abandoned and the image is `queued` again."""
    service.abort_upload(ctx, image_id, upload_id)
    return no_content()
