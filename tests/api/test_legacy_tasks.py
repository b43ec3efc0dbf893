"""Glance's legacy task API (`POST /v2/tasks`, type `import`): a new image filled from
`import_from` by the web-download path, its task ending `success` or `failure`."""
from __future__ import annotations

import pytest

from chalicelib.db import images as image_db
from tests.pipeline.test_web_import import DATA, origin, trusting_loopback  # noqa: F401
from tests.support import call, deliver, drain

PROPERTIES = {"container_format": "bare", "disk_format": "raw", "visibility": "public",
              "name": "legacy"}


def _task(uri: str, **changes) -> dict:
    return {"type": "import", "input": {"image_properties": PROPERTIES,
                                        "import_from_format": "raw", "import_from": uri,
                                        **changes}}


def _run_worker(client, queue_url):
    for _ in range(2):  # the fetch, then S3's event for the staged object
        deliver(client, drain(queue_url, wait=1))


def test_an_import_task_makes_an_active_image(server_client, server_aws, origin,  # noqa: F811
                                              trusting_loopback):  # noqa: F811
    status, task, _ = call(server_client, "POST", "/v2/tasks", _task(f"{origin}/disk.raw"))
    assert status == 201, task
    assert task["type"] == "import" and task["status"] == "pending"
    assert task["input"]["image_properties"] == PROPERTIES
    _run_worker(server_client, server_aws.queue_url)
    done = call(server_client, "GET", f"/v2/tasks/{task['id']}")[1]
    assert done["status"] == "success", done
    image = image_db.get(done["result"]["image_id"])
    assert image.status == "active" and image.size == len(DATA)
    assert image.name == "legacy" and image.visibility == "public"


def test_an_unreachable_source_fails_the_task(server_client, server_aws, origin,  # noqa: F811
                                              trusting_loopback):  # noqa: F811
    status, task, _ = call(server_client, "POST", "/v2/tasks", _task(f"{origin}/missing"))
    assert status == 201
    _run_worker(server_client, server_aws.queue_url)
    failed = call(server_client, "GET", f"/v2/tasks/{task['id']}")[1]
    assert failed["status"] == "failure" and "404" in failed["message"]


@pytest.mark.parametrize("uri", ["http://127.0.0.1/x.img", "http://169.254.169.254/latest",
                                 "file:///etc/passwd", "http://host:22/x"])
def test_the_ssrf_guard_refuses_before_anything_is_created(client, uri):
    status, body, _ = call(client, "POST", "/v2/tasks", _task(uri))
    assert status == 400, body
    assert call(client, "GET", "/v2/images")[1]["images"] == []
    assert call(client, "GET", "/v2/tasks")[1]["tasks"] == []


@pytest.mark.parametrize("body, message", [
    ({"type": "import", "input": {"import_from": "http://example.com/x"}},
     "Input does not contain 'import_from_format' field"),
    ({"type": "api_image_import", "input": {"image_id": "x"}}, "only the legacy 'import'"),
    ({"type": "import"}, "Input to import task is empty."),
])
def test_malformed_tasks_are_400(client, body, message):
    status, answer, _ = call(client, "POST", "/v2/tasks", body)
    assert status == 400 and message in answer["error"]["message"]


def test_members_may_not_create_tasks(client):
    body = _task("http://example.com/x.img")
    assert call(client, "POST", "/v2/tasks", body, project="p1", roles="member")[0] == 403
