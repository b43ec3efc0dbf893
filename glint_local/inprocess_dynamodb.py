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
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse


def route(endpoint: str) -> None:
    """From now on, DynamoDB requests of this process's new clients to `endpoint` (a moto
    server running in this process) are answered in-process, by the same backends."""
    handler = _InProcess(endpoint)
    botocore.handlers.BUILTIN_HANDLERS.append(("before-send.dynamodb", handler))


class _InProcess:
    def __init__(self, endpoint: str) -> None:
        self._netloc = urlsplit(endpoint).netloc
        # Only for moto's URL patterns: it reads the region from the request's signature.
        self._aws_url = "https://dynamodb.us-east-1.amazonaws.com"
        self._dispatcher = BotocoreStubber()

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        if url.netloc != self._netloc:
            return None  # another endpoint: botocore sends it
        request.url = self._aws_url + (url.path or "/")
        answer = self._dispatcher.process_request(request)
        if answer is None:
            return None
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, MockRawResponse(body))
