"""The app over HTTP on loopback: Chalice's local server (its API Gateway emulation, so the
app is the one that runs in Lambda), with each request one invocation of the API function
(through the runtime's invoker), tuned for kept-alive connections, plus chunked bodies.

- Kept-alive clients: Python's handler writes the status line and headers in one send and
  the body in another; with Nagle's algorithm on, the body waits for the client's delayed
  ACK of the headers (~40 ms per request). Responses are buffered and flushed once, and
  TCP_NODELAY is set, so each response leaves in one send.
- Concurrency: one thread per connection (Chalice's threaded server; the app's current
  request is thread-local there).
- Version discovery closes its connection: `openstack` asks for the version document, then
  tells "stdin closed" (`<&-`) from "image data on stdin" by whether fd 0 is open; a
  kept-alive discovery socket takes the lowest free descriptor, 0, and the client then reads
  a socket as its stdin. Glance (under uWSGI) closes every connection; Glint closes only
  after the version document, which a client fetches once per session, and keeps the rest
  alive.
- Chunked request bodies: Chalice's handler reads a body by Content-Length only;
  python-glanceclient sends image data chunked, which would arrive empty. This handler
  de-chunks before the app sees it."""
from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import urlsplit

from chalice import Chalice
from chalice.config import Config
from chalice.local import (ChaliceRequestHandler, CustomLocalChalice, LocalChalice,
                           LocalDevServer, LocalGateway)

from glint_local.envelope import API_HANDLER, InvocationFailed, InvocationStopped, Invoker
from glint_local.not_found import NotFoundMixin

# API Gateway stops waiting for its integration after 29 seconds and answers 504.
INTEGRATION_TIMEOUT_SECONDS = 29
_WRITE_BUFFER = 64 * 1024
# The version document's paths (Glance serves it at both).
_DISCOVERY_PATHS = frozenset({"", "/versions"})


class _Handler(NotFoundMixin, ChaliceRequestHandler):
    disable_nagle_algorithm = True
    # Buffered: headers and body go out together when the base class flushes after each
    # request (BaseHTTPRequestHandler.handle_one_request).
    wbufsize = _WRITE_BUFFER

    def __init__(self, *args: Any, invoker: Invoker, **kwargs: Any) -> None:
        self._invoker = invoker
        super().__init__(*args, **kwargs)

    def _generic_handle(self) -> None:
        # Once per connection: a kept-alive connection comes back here for every request.
        if not isinstance(self.local_gateway, _InvokedGateway):
            self.local_gateway = _InvokedGateway(self.local_gateway, self._invoker)
        super()._generic_handle()

    # The base class binds these to its own _generic_handle.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _send_headers(self, headers: dict[str, Any]) -> None:
        # BaseHTTPRequestHandler ends the connection after a response that says so.
        if urlsplit(self.path).path.rstrip("/") in _DISCOVERY_PATHS:
            headers = {**headers, "Connection": "close"}
        super()._send_headers(headers)

    def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
        if "chunked" not in self.headers.get("transfer-encoding", "").lower():
            return super()._parse_payload()
        body = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            body += self.rfile.read(size)
            self.rfile.readline()  # the CRLF after each chunk
        headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        return headers, bytes(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        """Quiet: one stderr line per request would cost more than the request."""


class _InvokedApp:
    """The app as Chalice's gateway sees it (its routes), each call one invocation of the API
    function through the runtime's invoker: API Gateway builds the event, Lambda runs it."""

    def __init__(self, app: Chalice, invoker: Invoker) -> None:
        self._app, self._invoker = app, invoker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def __call__(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        return self._invoker.invoke_event(API_HANDLER, self._app, event,
                                          deadline_seconds=INTEGRATION_TIMEOUT_SECONDS)


class _InvokedGateway:
    """Chalice's local gateway, calling the app through the invoker; answers as API Gateway
    does when the invocation fails."""

    def __init__(self, gateway: LocalGateway, invoker: Invoker) -> None:
        # The gateway keeps the app as `_app_object` (chalice 1.x) and calls it once per
        # request with the event it built.
        gateway._app_object = _InvokedApp(gateway._app_object, invoker)
        self._gateway = gateway

    def handle_request(self, **request: Any) -> dict[str, Any]:
        try:
            return self._gateway.handle_request(**request)
        except (InvocationStopped, InvocationFailed) as exc:
            # API Gateway's answers: its own timeout, or the function's failure.
            timed_out = "timed out" in str(exc)
            status, message = ((504, "Endpoint request timed out") if timed_out
                               else (502, "Internal server error"))
            return {"statusCode": status, "headers": {"Content-Type": "application/json"},
                    "multiValueHeaders": {}, "body": json.dumps({"message": message})}


def serve(app: Chalice, config: Config, host: str, port: int,
          invoker: Invoker | None = None) -> LocalDevServer:
    """A threaded server for `app` on host:port (call serve_forever); `invoker` runs each
    request's invocation (directly by default).

    Raises:
        OSError: the port is taken (errno EADDRINUSE) or not ours to bind.
    """
    # What chalice.local.create_local_server does, with our handler class.
    if not isinstance(app, CustomLocalChalice):  # once per process
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=functools.partial(
        _Handler, invoker=invoker or Invoker()))
