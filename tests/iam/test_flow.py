"""The whole image flow with IAM enforced: every function signs with its own role from the
synthesized stack, moto checks each request, glint_local checks each call's resource (S3 key
prefixes included) against the role's statements."""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from chalicelib import aws
from chalicelib.config import get_settings
from tests.iam import flow
from tests.iam.conftest import COLD, Runtime, wait_for

ORIGIN_DATA = os.urandom(700_000)


@contextmanager
def settings(runtime: Runtime, **env: str) -> Iterator[None]:
    """Change the runtime's settings for the block (they are read once, then cached; the
    functions' environments start again with them, as after a configuration update)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        aws.reset()
        get_settings()
        runtime.world.invoker.recycle()
        try:
            yield
        finally:
            aws.reset()
    aws.reset()
    runtime.world.invoker.recycle()


def _objects(bucket: str, prefix: str) -> list[str]:
    """Keys under `prefix`, listed with the runtime's own (administrator) credentials."""
    listed = aws.s3().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_presigned_single_upload_activates_and_downloads(runtime: Runtime) -> None:
    data = os.urandom(300_000)
    image_id = flow.create(runtime.api)
    flow.presigned_upload(runtime.api, image_id, data)
    flow.assert_active_with(runtime.api, image_id, data)
    assert flow.download(runtime.api, image_id) == data


def test_presigned_multipart_upload_activates(runtime: Runtime) -> None:
    part = 5 * flow.MIB
    data = os.urandom(2 * part + 1000)
    image_id = flow.create(runtime.api)
    flow.multipart_upload(runtime.api, image_id, data, part)
    flow.assert_active_with(runtime.api, image_id, data)


def test_put_file_verifies_through_the_deployed_design(runtime: Runtime) -> None:
    data = os.urandom(3 * flow.MIB)
    image_id = flow.create(runtime.api)
    response = flow.put_file(runtime.api, image_id, data)
    assert response.status_code == 204, response.text
    flow.assert_active_with(runtime.api, image_id, data)
    assert flow.download(runtime.api, image_id) == data


def test_stage_then_glance_direct_import(runtime: Runtime) -> None:
    data = os.urandom(200_000)
    image_id = flow.create(runtime.api)
    assert flow.put_file(runtime.api, image_id, data, what="stage").status_code == 204
    response = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/import",
                         {"method": {"name": "glance-direct"}})
    assert response.status_code == 202, response.text
    flow.assert_active_with(runtime.api, image_id, data)


class _Origin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(ORIGIN_DATA)))
        self.end_headers()
        self.wfile.write(ORIGIN_DATA)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture()
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_web_download_fetches_into_staging_and_activates(runtime: Runtime, origin: str) -> None:
    port = origin.rsplit(":", 1)[1]
    with settings(runtime, GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS="127.0.0.1/32",
                  GLINT_WEB_DOWNLOAD_ALLOWED_PORTS=f"80,443,{port}"):
        image_id = flow.create(runtime.api)
        response = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/import", {
            "method": {"name": "web-download", "uri": f"{origin}/disk.raw"}})
        assert response.status_code == 202, response.text
        flow.assert_active_with(runtime.api, image_id, ORIGIN_DATA)


def test_copy_image_into_a_second_store(runtime: Runtime) -> None:
    data = os.urandom(100_000)
    image_id = flow.create(runtime.api)
    flow.presigned_upload(runtime.api, image_id, data)
    flow.assert_active_with(runtime.api, image_id, data)
    response = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/import",
                         {"method": {"name": "copy-image"}, "stores": ["cold"]})
    assert response.status_code == 202, response.text

    def copied() -> bool:
        return "cold" in flow.image(runtime.api, image_id).get("stores", "")

    assert wait_for(copied), flow.image(runtime.api, image_id)
    assert _objects(COLD, f"images/{image_id}/")
    # Read back from the copy: the download redirect is signed for the cold store's bucket.
    response = requests.get(f"{runtime.api}/v2/images/{image_id}/file?prefer=cold",
                            headers=flow.ADMIN, timeout=60)
    assert response.status_code == 200 and response.content == data
    assert f"/{COLD}/" in response.url


def test_delete_removes_the_image_data(runtime: Runtime) -> None:
    data = os.urandom(50_000)
    image_id = flow.create(runtime.api)
    flow.presigned_upload(runtime.api, image_id, data)
    flow.assert_active_with(runtime.api, image_id, data)
    assert flow.call(runtime.api, "DELETE", f"/v2/images/{image_id}").status_code == 204
    assert _objects(get_settings().bucket, f"images/{image_id}/") == []
    assert flow.call(runtime.api, "GET", f"/v2/images/{image_id}").status_code == 404


def test_reaper_fails_an_abandoned_upload(runtime: Runtime) -> None:
    with settings(runtime, GLINT_PRESIGN_EXPIRES_SECONDS="1", GLINT_REAP_AFTER_SECONDS="0"):
        image_id = flow.create(runtime.api)
        grant = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/uploads", {"size": 10})
        assert grant.status_code == 201, grant.text

        def reaped() -> dict | None:
            runtime.pump.run_scheduled("import_reaper")
            shown = flow.image(runtime.api, image_id)
            return shown if shown["status"] == "queued" else None

        shown = wait_for(reaped, seconds=20, every=1)
    assert shown and "abandoned" in shown["os_glint_import_error"], \
        flow.image(runtime.api, image_id)


def test_scrubber_purges_a_delayed_delete(runtime: Runtime) -> None:
    data = os.urandom(40_000)
    with settings(runtime, GLINT_DELAYED_DELETE="true", GLINT_SCRUB_DELAY_SECONDS="0"):
        image_id = flow.create(runtime.api)
        flow.presigned_upload(runtime.api, image_id, data)
        flow.assert_active_with(runtime.api, image_id, data)
        assert flow.call(runtime.api, "DELETE", f"/v2/images/{image_id}").status_code == 204
        assert _objects(get_settings().bucket, f"images/{image_id}/")  # kept for restore
        runtime.pump.run_scheduled("image_scrubber")
        assert _objects(get_settings().bucket, f"images/{image_id}/") == []


def test_dead_letter_handler_fails_the_import(runtime: Runtime) -> None:
    image_id = flow.create(runtime.api)
    grant = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/uploads", {"size": 10})
    key = grant.json()["url"].split(f"/{get_settings().bucket}/", 1)[1].split("?", 1)[0]
    # What the import queue's redrive moves to the DLQ after the last failed attempt.
    aws.sqs().send_message(QueueUrl=runtime.resources.dlq_url, MessageBody=json.dumps({
        "Records": [{"eventName": "ObjectCreated:Put", "s3": {
            "bucket": {"name": get_settings().bucket}, "object": {"key": key, "size": 10}}}]}))
    shown = flow.settled(runtime.api, image_id)
    assert shown["status"] == "queued", shown
    assert "repeated attempts" in shown["os_glint_import_error"]



def _s3_event(bucket: str, key: str, size: int) -> str:
    return json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "bucket": {"name": bucket}, "object": {"key": key, "size": size}}}]})


def _drained(*queue_urls: str) -> bool:
    for url in queue_urls:
        counts = aws.sqs().get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        if any(int(count) for count in counts["Attributes"].values()):
            return False
    return True


def test_a_duplicate_event_of_an_activated_upload_is_acknowledged(runtime: Runtime) -> None:
    # S3 delivers events at least once: a duplicate of an activated upload's event looks up
    # the import's task (tasks by image) in the worker, and in the DLQ handler once
    # dead-lettered; both roles must be allowed to, or the message never leaves.
    data = os.urandom(60_000)
    bucket = get_settings().bucket
    image_id = flow.create(runtime.api)
    flow.presigned_upload(runtime.api, image_id, data)
    flow.assert_active_with(runtime.api, image_id, data)
    (location,) = _objects(bucket, f"images/{image_id}/")
    duplicate = _s3_event(bucket, f"staging/{image_id}/{location.rsplit('/', 1)[1]}", len(data))
    import_queue = runtime.resources.queue_urls[get_settings().import_queue]
    aws.sqs().send_message(QueueUrl=import_queue, MessageBody=duplicate)
    aws.sqs().send_message(QueueUrl=runtime.resources.dlq_url, MessageBody=duplicate)
    assert wait_for(lambda: _drained(import_queue, runtime.resources.dlq_url), seconds=20)
    assert flow.image(runtime.api, image_id)["status"] == "active"
