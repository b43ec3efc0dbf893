"""The one domain-error -> HTTP table, and the error body every view returns."""
from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from chalice import Response

from chalicelib.domain.errors import (Conflict, Forbidden, GlintError, ImageRejected, Invalid,
                                      NotFound, QuotaExceeded, ServiceUnavailable,
                                      SignatureRejected, Unauthorized, UnsupportedMediaType)

HTTP_STATUS: dict[type[GlintError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    QuotaExceeded: 413,
    UnsupportedMediaType: 415,
    ImageRejected: 415,
    SignatureRejected: 400,
    Invalid: 400,
    ServiceUnavailable: 503,
}


def status_for(exc: GlintError) -> int:
    """The status of the nearest mapped class in the exception's MRO (500 if none)."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def error_response(status: int, message: str, headers: dict[str, str] | None = None,
                   details: dict[str, Any] | None = None) -> Response:
    """`{"error": {"code": 404, "title": "Not Found", "message": "..."}}`: glanceclient and
    openstacksdk both read `message` from each top-level value of an error body. `details`
    add fields beside it (a 413's limit and usage)."""
    body = {"error": {**(details or {}), "code": status, "title": HTTPStatus(status).phrase,
                      "message": message}}
    return Response(body=json.dumps(body), status_code=status,
                    headers={"Content-Type": "application/json", **(headers or {})})
