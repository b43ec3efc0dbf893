"""The runtime's own DynamoDB and EventBridge calls handed straight to the embedded moto,
without HTTP.

Every API request reads or writes DynamoDB at least once, and every change that reports an
event puts it on the bus; over loopback HTTP each call pays signing, a socket round trip and
a werkzeug request on moto's server thread, more than the operation itself. moto's server and its in-process dispatcher share
one set of backends, so calls from this process go to the dispatcher (what `mock_aws` uses),
and the server keeps serving everyone else (the CLI, other processes, the queues' long
polls). Requests are still built, signed and parsed by botocore exactly as against AWS."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.exceptions import HTTPException
from moto.core.request import normalize_request
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler

# botocore's service id (as its events name it) -> the handler moto's server calls.
_HANDLERS: dict[str, Callable[..., Any]] = {"dynamodb": DynamoHandler.dispatch,
                                            "eventbridge": EventsHandler.dispatch}


def route(endpoint: str) -> None:
    """From now on, DynamoDB and EventBridge requests of this process's new clients to
    `endpoint` (a moto server running in this process) are answered in-process, by the same
    backends."""
    for service, dispatch in _HANDLERS.items():
        botocore.handlers.BUILTIN_HANDLERS.append(
            (f"before-send.{service}", _InProcess(endpoint, dispatch)))


class _InProcess:
    def __init__(self, endpoint: str, dispatch: Callable[..., Any]) -> None:
        self._netloc, self._dispatch = urlsplit(endpoint).netloc, dispatch

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if urlsplit(request.url).netloc != self._netloc:
            return None  # another endpoint: botocore sends it
        # moto's handler, as its server would call it: same URL and headers, so a signature
        # checked under IAM enforcement is the one the client made.
        normalized = normalize_request(request)
        try:
            status, headers, body = self._dispatch(normalized, normalized.raw_url,
                                                   normalized.headers)
        except HTTPException as exc:
            status, headers, body = exc.code, exc.get_headers(), exc.get_body()
        return AWSResponse(request.url, status, headers, MockRawResponse(body))
