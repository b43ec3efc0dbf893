"""The app over HTTP on loopback: Chalice's local server, plus chunked request bodies.

Chalice's local handler reads a body by Content-Length only; python-glanceclient sends image
data chunked, which would arrive empty. This handler de-chunks before the app sees it."""
from __future__ import annotations

from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

from glint_local.not_found import NotFoundMixin


class _ChunkAwareHandler(NotFoundMixin, ChaliceRequestHandler):
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


def serve(app: Chalice, config: Config, host: str, port: int) -> LocalDevServer:
    """A server for `app` on host:port with chunked-body support (call serve_forever)."""
    # What chalice.local.create_local_server does, with our handler class.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=_ChunkAwareHandler)
