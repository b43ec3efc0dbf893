"""The runtime's own DynamoDB calls handed straight to the embedded moto, without HTTP.

Every API request reads or writes DynamoDB at least once; over loopback HTTP each call pays
signing, a socket round trip and a werkzeug request on moto's server thread, about as much
as the operation itself. moto's server and its in-process dispatcher share one set of
backends, so calls from this process go to the dispatcher (what `mock_aws` uses), and the
server keeps serving everyone else (the CLI, other processes). Requests are still built,
signed and parsed by botocore exactly as against AWS."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import botocore.handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse
from moto.core.exceptions import HTTPException
from moto.core.request import normalize_request
from moto.dynamodb.responses import DynamoHandler


def route(endpoint: str) -> None:
    """From now on, DynamoDB requests of this process's new clients to `endpoint` (a moto
    server running in this process) are answered in-process, by the same backends."""
    handler = _InProcess(endpoint)
    botocore.handlers.BUILTIN_HANDLERS.append(("before-send.dynamodb", handler))


class _InProcess:
    def __init__(self, endpoint: str) -> None:
        self._netloc = urlsplit(endpoint).netloc

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if urlsplit(request.url).netloc != self._netloc:
            return None  # another endpoint: botocore sends it
        # moto's DynamoDB handler, as its server would call it: same URL and headers, so a
        # signature checked under IAM enforcement is the one the client made.
        normalized = normalize_request(request)
        try:
            status, headers, body = DynamoHandler.dispatch(normalized, normalized.raw_url,
                                                           normalized.headers)
        except HTTPException as exc:
            status, headers, body = exc.code, exc.get_headers(), exc.get_body()
        return AWSResponse(request.url, status, headers, MockRawResponse(body))
