"""Image data is served as application/octet-stream (python-glanceclient streams nothing
else), whether it came through the API or a presigned upload that set no type."""
from __future__ import annotations

import os

import requests

from tests.support import create_image, deliver, drain, upload_single

DATA = os.urandom(64_000)


def _download(client, image_id):
    answer = client.http.get(f"/v2/images/{image_id}/file",
                             headers={"X-Project-Id": "admin", "X-Roles": "admin"})
    assert answer.status_code == 302
    return requests.get(answer.headers["Location"], timeout=30)


def test_data_put_through_the_api_downloads_as_octet_stream(server_client, server_aws):
    image = create_image(server_client)
    put = server_client.http.put(f"/v2/images/{image['id']}/file", body=DATA, headers={
        "X-Project-Id": "admin", "X-Roles": "admin", "Content-Type": "application/octet-stream"})
    assert put.status_code == 204
    fetched = _download(server_client, image["id"])
    assert fetched.content == DATA
    assert fetched.headers["Content-Type"] == "application/octet-stream"


def test_a_presigned_upload_without_a_type_still_downloads_as_octet_stream(server_client,
                                                                         server_aws):
    image = create_image(server_client)
    upload_single(server_client, image["id"], DATA)  # S3 stores binary/octet-stream
    deliver(server_client, drain(server_aws.queue_url, wait=1))
    fetched = _download(server_client, image["id"])
    assert fetched.content == DATA
    assert fetched.headers["Content-Type"] == "application/octet-stream"
