"""Image data: download."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.routing import no_content, query_params, route
from chalicelib.domain.context import RequestContext
from chalicelib.services import data as service

bp = Blueprint(__name__)


@route(bp, "/v2/images/{image_id}/file")
def download(ctx: RequestContext, image_id: str) -> Response:
    """302 to a presigned GET of the data (S3 honours Range); 204 when there is none;
    `?disk_format=` picks a converted variant, `?prefer=store1,store2` the stores to read."""
    params = query_params(bp)
    prefer = [s.strip() for s in params.get("prefer", "").split(",") if s.strip()]
    url = service.download_url(ctx, image_id, params.get("disk_format"), prefer)
    if url is None:
        return no_content()
    return Response(body="", status_code=302, headers={"Location": url})
