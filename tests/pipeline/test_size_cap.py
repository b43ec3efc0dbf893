"""The image size cap (Glance's image_size_cap): refused with 413 when upload URLs are asked
for and when a multipart upload is completed; a web-download stops reading at the cap and
the import fails with the reason."""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from chalicelib.db import images as image_db
from tests.support import call, create_image, deliver, drain, keys, override_settings

MIB = 1024 * 1024


def test_upload_urls_above_the_cap_are_refused_with_413(server_client, monkeypatch):
    override_settings(monkeypatch, GLINT_IMAGE_SIZE_CAP=str(10 * MIB))
    image_id = create_image(server_client)["id"]
    for body in ({"size": 10 * MIB + 1}, {"size": 20 * MIB, "multipart": True}):
        status, error, _ = call(server_client, "POST", f"/v2/images/{image_id}/uploads", body)
        assert status == 413, error
        assert "image size cap of 10485760 bytes" in error["error"]["message"]
    assert image_db.get(image_id).status == "queued"  # nothing granted, nothing held
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image_id}/uploads",
                            {"size": 10 * MIB})
    assert status == 201 and grant["type"] == "single"


def test_completing_a_multipart_upload_above_the_cap_is_refused(server_client, monkeypatch):
    image_id = create_image(server_client)["id"]
    data = os.urandom(11 * MIB)
    status, grant, _ = call(server_client, "POST", f"/v2/images/{image_id}/uploads",
                            {"size": len(data), "multipart": True, "part_size": 6 * MIB})
    assert status == 201, grant
    parts = []
    for part in grant["parts"]:
        start = (part["part_number"] - 1) * 6 * MIB
        sent = requests.put(part["url"], data=data[start:start + part["size"]],
                            headers=part["headers"], timeout=30)
        parts.append({"part_number": part["part_number"], "etag": sent.headers["ETag"]})
    override_settings(monkeypatch, GLINT_IMAGE_SIZE_CAP=str(10 * MIB))  # lowered meanwhile
    status, error, _ = call(server_client, "POST", grant["complete"], {"parts": parts})
    assert status == 413, error
    assert "exceeds this cloud's image size cap" in error["error"]["message"]
    assert keys(f"staging/{image_id}/") == []  # the parts were never joined


class _Endless(BaseHTTPRequestHandler):
    """Streams zeros without a Content-Length and counts what it managed to send."""

    sent = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.end_headers()
        block = bytes(64 * 1024)
        try:
            for _ in range(64 * MIB // len(block)):
                self.wfile.write(block)
                type(self).sent += len(block)
        except OSError:  # the reader hung up at the cap
            pass

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def endless_origin(monkeypatch) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    override_settings(monkeypatch, GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS="127.0.0.1/32",
                      GLINT_WEB_DOWNLOAD_ALLOWED_PORTS=f"80,443,{port}",
                      GLINT_IMAGE_SIZE_CAP=str(2 * MIB))
    _Endless.sent = 0
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def test_web_download_stops_at_the_cap_and_fails_with_the_reason(server_client, server_aws,
                                                                 endless_origin):
    image_id = create_image(server_client)["id"]
    status, _, _ = call(server_client, "POST", f"/v2/images/{image_id}/import",
                        {"method": {"name": "web-download", "uri": f"{endless_origin}/disk"}})
    assert status == 202
    deliver(server_client, drain(server_aws.queue_url, wait=1))
    image = image_db.get(image_id)
    assert image.status == "queued"
    assert image.import_error.endswith(
        f"failed: The import source is larger than the limit of {2 * MIB} bytes.")
    # It hung up near the cap (socket buffers take a few MiB more), far before the end.
    assert _Endless.sent < 32 * MIB
    assert keys(f"staging/{image_id}/") == []
