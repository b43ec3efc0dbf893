"""Images: create, list, show, update (JSON-patch), delete, and their schemas."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import render
from chalicelib.api.routing import (base_url, json_body, json_response, no_content, query_lists,
                                    route)
from chalicelib.domain.context import RequestContext
from chalicelib.domain.query import parse_list_query
from chalicelib.domain.schema import image_schema, images_schema
from chalicelib.services import discovery, families
from chalicelib.services import images as service

bp = Blueprint(__name__)


@route(bp, "/v2/images", methods=("POST",))
def create_image(ctx: RequestContext) -> Response:
    """201 with the new image and its `Location`."""
    image = service.create_image(ctx, json_body(bp))
    # Glance tells clients here how the new image's data may arrive, and where to (the
    # stores only with several).
    headers = {"Location": f"{base_url(bp)}/v2/images/{image.id}",
               "OpenStack-image-import-methods": ",".join(discovery.import_methods())}
    if discovery.store_ids():
        headers["OpenStack-image-store-ids"] = ",".join(discovery.store_ids())
    return json_response(render.image(ctx, image), status=201, headers=headers)


@route(bp, "/v2/images")
def list_images(ctx: RequestContext) -> Response:
    """One page of images: Glance's filters, sort orders and visibility modes."""
    params = query_lists(bp)
    if "family" in params:  # a family's latest image (Glint extension, docs/families.md)
        return json_response(render.image_list(ctx, families.resolve_latest(ctx, params), None,
                                               params))
    page = service.list_images(ctx, parse_list_query(params))
    return json_response(render.image_list(ctx, page.images, page.next_marker, params))


@route(bp, "/v2/images/{image_id}")
def show_image(ctx: RequestContext, image_id: str) -> Response:
    """One image."""
    return json_response(render.image(ctx, service.get_image(ctx, image_id)))


@route(bp, "/v2/images/{image_id}", methods=("PATCH",))
def update_image(ctx: RequestContext, image_id: str) -> Response:
    """Apply a JSON-patch (Glance's media types only; others get 415 and `Accept-Patch`)."""
    content_type = bp.current_request.headers.get("content-type", "")
    image = service.update_image(ctx, image_id, content_type, json_body(bp))
    return json_response(render.image(ctx, image))


@route(bp, "/v2/images/{image_id}", methods=("DELETE",))
def delete_image(ctx: RequestContext, image_id: str) -> Response:
    """204; the image's data goes too."""
    service.delete_image(ctx, image_id)
    return no_content()


@route(bp, "/v2/schemas/image")
def show_image_schema(ctx: RequestContext) -> Response:
    """The image schema clients validate against."""
    return json_response(image_schema())


@route(bp, "/v2/schemas/images")
def show_images_schema(ctx: RequestContext) -> Response:
    """The image-list schema."""
    return json_response(images_schema())
