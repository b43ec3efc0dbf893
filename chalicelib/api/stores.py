"""Stores: remove one store's copy of an image (Glance 2.10)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import no_content, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import stores as service

bp = Blueprint(__name__)


@route(bp, "/v2/stores/{store_id}/{image_id}", methods=("DELETE",))
def delete_from_store(ctx: RequestContext, store_id: str, image_id: str) -> Response:
    """204 once the store's copy is gone; the image keeps its other copies."""
    service.delete_from_store(ctx, store_id, image_id)
    return no_content()
