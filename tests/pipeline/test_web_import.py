"""POST .../import with web-download, end to end: the API queues the request, the worker
fetches into staging from a server on 127.0.0.1 (trusted explicitly for the test), and S3's
event brings the usual verification."""
from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chalicelib.db import images as image_db
from tests.support import call, create_image, deliver, drain, override_settings

DATA = os.urandom(700_000)


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/disk.raw":
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path == "/to-metadata":  # a redirect into the instance-metadata address
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture()
def trusting_loopback(origin, monkeypatch):
    port = origin.rsplit(":", 1)[1]
    override_settings(monkeypatch, GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS="127.0.0.1/32",
                      GLINT_WEB_DOWNLOAD_ALLOWED_PORTS=f"80,443,{port}")


def _import(client, image_id, method):
    return call(client, "POST", f"/v2/images/{image_id}/import", {"method": method})


def _run_worker(client, queue_url, rounds=2):
    for _ in range(rounds):  # the fetch, then S3's event for the staged object
        deliver(client, drain(queue_url, wait=1))


def test_web_download_activates_with_verified_hashes(server_client, server_aws, origin,
                                                     trusting_loopback):
    image = create_image(server_client)
    sha512 = hashlib.sha512(DATA).hexdigest()
    status, _, _ = _import(server_client, image["id"], {
        "name": "web-download", "uri": f"{origin}/disk.raw",
        "validation_data": {"os_hash_algo": "sha512", "os_hash_value": sha512}})
    assert status == 202
    assert image_db.get(image["id"]).status == "uploading"
    _run_worker(server_client, server_aws.queue_url)
    stored = image_db.get(image["id"])
    assert stored.status == "active", stored.import_error
    assert stored.size == len(DATA) and stored.os_hash_value == sha512
    assert stored.checksum == hashlib.md5(DATA).hexdigest()


def test_web_download_hash_mismatch_and_refused_redirect_fail_with_reason(
        server_client, server_aws, origin, trusting_loopback):
    mismatch = create_image(server_client)["id"]
    _import(server_client, mismatch, {"name": "web-download", "uri": f"{origin}/disk.raw",
                                      "validation_data": {"os_hash_algo": "sha256",
                                                          "os_hash_value": "0" * 64}})
    redirected = create_image(server_client)["id"]
    _import(server_client, redirected, {"name": "web-download", "uri": f"{origin}/to-metadata"})
    missing = create_image(server_client)["id"]
    _import(server_client, missing, {"name": "web-download", "uri": f"{origin}/nothing"})
    _run_worker(server_client, server_aws.queue_url)
    for image_id, words in ((mismatch, "sha256"), (redirected, "169.254.169.254"),
                            (missing, "404")):
        image = image_db.get(image_id)
        assert image.status == "queued" and words in image.import_error, image.import_error


def test_web_download_request_errors(server_client, server_aws):
    image_id = create_image(server_client)["id"]
    for method in ({"name": "web-download"},
                   {"name": "web-download", "uri": "file:///etc/passwd"},
                   {"name": "web-download", "uri": "http://169.254.169.254/latest/"},
                   {"name": "web-download", "uri": "http://127.0.0.1/"},
                   {"name": "web-download", "uri": "http://example.com:22/x"},
                   {"name": "web-download", "uri": "http://example.com/x",
                    "validation_data": {"os_hash_algo": "crc", "os_hash_value": "00"}}):
        status, body, _ = _import(server_client, image_id, method)
        assert status == 400, (method, body)
    assert drain(server_aws.queue_url, wait=0) == []  # nothing was queued
    assert image_db.get(image_id).status == "queued"
    active = create_image(server_client)["id"]
    server_client.http.put(f"/v2/images/{active}/file", body=b"x",
                           headers={"Content-Type": "application/octet-stream"})
    assert _import(server_client, active, {"name": "web-download",
                                           "uri": "http://example.com/x"})[0] == 409


def test_web_download_beyond_the_size_quota_fails_and_holds_nothing(
        server_client, server_aws, origin, trusting_loopback, monkeypatch):
    override_settings(monkeypatch, GLINT_QUOTA_IMAGE_SIZE_TOTAL="0")  # MiB: nothing fits
    image_id = create_image(server_client)["id"]
    assert _import(server_client, image_id, {"name": "web-download",
                                             "uri": f"{origin}/disk.raw"})[0] == 202
    _run_worker(server_client, server_aws.queue_url)
    image = image_db.get(image_id)
    assert image.status == "queued" and "image_size_total" in image.import_error
    usage = call(server_client, "GET", "/v2/info/usage")[1]["usage"]
    assert usage["image_size_total"]["usage"] == 0 and usage["image_stage_total"]["usage"] == 0
    assert usage["image_count_uploading"]["usage"] == 0


def test_web_download_task_shows_the_download_then_succeeds(server_client, server_aws, origin,
                                                           trusting_loopback):
    image_id = create_image(server_client)["id"]
    _import(server_client, image_id, {"name": "web-download", "uri": f"{origin}/disk.raw"})
    deliver(server_client, drain(server_aws.queue_url, wait=1))  # the fetch only
    [task] = call(server_client, "GET", f"/v2/images/{image_id}/tasks")[1]["tasks"]
    assert task["status"] == "processing" and "127.0.0.1" in task["message"]
    _run_worker(server_client, server_aws.queue_url, rounds=1)  # S3's event: verification
    [task] = call(server_client, "GET", f"/v2/images/{image_id}/tasks")[1]["tasks"]
    assert task["status"] == "success"
