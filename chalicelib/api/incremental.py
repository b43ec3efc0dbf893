"""Incremental images (Glint extension, see docs/incremental.md): block manifests, and upload
parts copied from the parent image."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import json_body, json_response, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import incremental, part_copies

bp = Blueprint(__name__)


@route(bp, "/v2/images/{image_id}/blocks")
def show_manifest(ctx: RequestContext, image_id: str) -> Response:
    """The sha256 of each block of an active image's data."""
    return json_response(incremental.manifest_of(ctx, image_id).to_json())


@route(bp, "/v2/images/{image_id}/uploads/{upload_id}/copies", methods=("POST",))
def copy_parts(ctx: RequestContext, image_id: str, upload_id: str) -> Response:
    """200 with the ETag of each part filled from the parent's bytes at the same offsets."""
    copied = part_copies.copy_from_parent(ctx, image_id, upload_id, json_body(bp))
    return json_response({"parts": [{"part_number": p.part_number, "size": p.size,
                                     "etag": p.etag} for p in copied],
                          "bytes_copied": sum(p.size for p in copied)})
