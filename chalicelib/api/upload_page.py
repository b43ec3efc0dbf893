"""The browser upload page (docs/upload-page.md): one static file served beside the API, so
its calls to the API are same-origin; only the bucket needs CORS, for the part PUTs."""
from __future__ import annotations

from functools import cache
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.api.routing import route
from chalicelib.domain.context import RequestContext

bp = Blueprint(__name__)
PATH = "/upload"
_PAGE = Path(__file__).parent / "static" / "upload.html"


@cache
def _page() -> str:
    return _PAGE.read_text(encoding="utf-8")


@route(bp, PATH, public=True)
def upload_page(ctx: RequestContext) -> Response:
    """The page itself is public: it asks for the user's token and sends it with each call."""
    return Response(body=_page(), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8",
                             "Cache-Control": "no-cache",
                             # A page that takes a token is never framed by another site.
                             "Content-Security-Policy": "frame-ancestors 'none'"})
