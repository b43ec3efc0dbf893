"""How every view is registered: identity, body parsing, error mapping, log context and
tracing in one wrapper."""
from __future__ import annotations

import functools
import json
import logging
from urllib.parse import unquote
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from chalicelib import identity, logs, tracing
from chalicelib.api.authorizer import for_routes as gateway_authorizer
from chalicelib.api.errors import error_response, status_for
from chalicelib.config import get_settings
from chalicelib.domain.errors import (GlintError, Invalid, QuotaExceeded, Unauthorized,
                                      UnsupportedMediaType)
from chalicelib.domain.patch import PATCH_V21

log = logging.getLogger(__name__)
VERSION_PREFIX = "/v2"
View = Callable[..., Response]


def route(bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",),
          public: bool = False) -> Callable[[View], View]:
    """Register a view that takes the request context first; domain errors become JSON
    errors with Glance's status codes, anything else a logged 500. A public route (version
    discovery, as Glance serves it) skips authentication and gets an anonymous context."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(**params: str) -> Response:
            request = bp.current_request
            # Lines logged for this request carry its ids; its AWS calls nest in its subsegment.
            with (logs.scope(image_id=unquote(params.get("image_id", ""))),
                  tracing.request(request.method, path) as trace):
                return handle(request, trace, **params)

        def handle(request: Any, trace: Any, **params: str) -> Response:
            if has_trailing_slash(request):
                return not_found()
            try:
                ctx = (identity.anonymous(request.headers) if public else
                       identity.context_for(request.headers, request.context.get("authorizer")))
                logs.bind(request_id=ctx.request_id, project=ctx.project_id)
                tracing.annotate(trace, **logs.current())
                # API Gateway and Chalice's local server both pass path parameters still
                # percent-encoded (aws/chalice#511); Glance's router decodes them. In a
                # path '+' is a literal plus, hence unquote, not unquote_plus.
                response = view(ctx, **{k: unquote(v) for k, v in params.items()})
                response.headers.setdefault("x-openstack-request-id", ctx.request_id)
                return response
            except GlintError as exc:
                return error_response(status_for(exc), exc.message, _extra_headers(exc),
                                      exc.details)
            except Exception:  # noqa: BLE001 - the outermost boundary: log and convert
                log.exception("unhandled error", extra={"path": request.path})
                return error_response(500, "The server has either erred or is incapable of "
                                           "performing the requested operation.")

        # Views parse bodies themselves, so any content type reaches them (Glance's 415s).
        # Each /v2 route is also served without the prefix: clients given an endpoint
        # override without the version (`--os-endpoint http://host:9292`) use it as is.
        for served in (path, path.removeprefix(VERSION_PREFIX)) if path.startswith(
                VERSION_PREFIX + "/") else (path,):
            bp.route(served, methods=list(methods), content_types=["*/*"],
                     authorizer=None if public else gateway_authorizer())(wrapper)
        return view

    return decorator


def has_trailing_slash(request: Any) -> bool:
    """True for `/v2/images/`: API Gateway and Chalice match it to `/v2/images`, Glance's
    router to nothing (404, not the list). The raw path keeps the slash."""
    return request.path != "/" and request.context.get("path", "").endswith("/")


def not_found() -> Response:
    """Glance's answer for a path it does not serve."""
    return error_response(404, "The resource could not be found.")


def _extra_headers(exc: GlintError) -> dict[str, str]:
    if isinstance(exc, UnsupportedMediaType):
        return {"Accept-Patch": f"{PATCH_V21}, application/openstack-images-v2.0-json-patch"}
    if isinstance(exc, Unauthorized) and exc.www_authenticate:
        return {"WWW-Authenticate": exc.www_authenticate}
    return {}


def json_body(bp: Blueprint, required: bool = True) -> Any:
    """The request body parsed as JSON.

    Raises:
        Invalid: the body is missing (when required) or is not valid JSON.
        QuotaExceeded: the body is larger than this deployment accepts.
    """
    raw = bp.current_request.raw_body
    if not raw:
        if required:
            raise Invalid("Request body is required.")
        return None
    limit = get_settings().max_request_body_bytes
    if len(raw) > limit:
        raise QuotaExceeded(f"Request body is {len(raw)} bytes; at most {limit} are accepted.",
                            details={"limit": limit})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"Malformed JSON in request body: {exc}") from exc


def query_params(bp: Blueprint) -> dict[str, str]:
    """The request's query parameters (last value wins)."""
    return dict(bp.current_request.query_params or {})


def query_lists(bp: Blueprint) -> dict[str, list[str]]:
    """The request's query parameters, every value of each (Glance's repeated filters)."""
    params = bp.current_request.query_params
    return {k: params.getlist(k) for k in params} if params else {}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})


def no_content() -> Response:
    """204 with no body, not labelled JSON: python-glanceclient parses any body labelled
    JSON, and Chalice labels an empty one so by default."""
    return Response(body="", status_code=204, headers={"Content-Type": "text/plain"})


def base_url(bp: Blueprint) -> str:
    """The scheme and host the client used to reach us (for absolute links)."""
    headers = bp.current_request.headers
    scheme = headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{headers.get('host', 'localhost')}"
