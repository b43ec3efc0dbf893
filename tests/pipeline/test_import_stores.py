"""Imports into chosen stores (several stores configured): glance-direct and web-download
with `stores` or `all_stores` land in exactly those stores, reported through Glance's
reserved properties as tempest's multistore tests read them."""
from __future__ import annotations

import os
import time

import pytest

from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.image import Status
from chalicelib.pipeline import import_stores, recovery
from glint_local.pump import sqs_event
from tests.multistore import COLD, configure_stores, keys_in, run_worker, shown
from tests.pipeline.test_web_import import origin, trusting_loopback  # noqa: F401
from tests.support import call, create_image, deliver, drain

DATA = os.urandom(150_000)


@pytest.fixture()
def staged(server_client, server_aws, monkeypatch):
    configure_stores(monkeypatch)
    image = create_image(server_client)
    response = server_client.http.put(f"/v2/images/{image['id']}/stage", body=DATA, headers={
        "X-Project-Id": "admin", "X-Roles": "admin", "Content-Type": "application/octet-stream"})
    assert response.status_code == 204
    return image


def _import(client, image_id, **body):
    return call(client, "POST", f"/v2/images/{image_id}/import",
                {"method": {"name": "glance-direct"}, **body})


def _settle(client, env):
    for _ in range(3):  # the import request, then the S3 event it may cause
        deliver(client, drain(env.queue_url, wait=0))


def test_all_stores_fills_every_store(server_client, server_aws, staged):
    assert _import(server_client, staged["id"], all_stores=True)[0] == 202
    pending = shown(server_client, staged["id"])
    assert pending["os_glance_importing_to_stores"] == "cold,cold2,default"
    assert pending["os_glance_failed_import"] == ""
    _settle(server_client, server_aws)
    done = shown(server_client, staged["id"])
    assert done["status"] == "active" and done["stores"] == "default,cold,cold2"
    assert done["os_glance_importing_to_stores"] == "" and done["os_glance_failed_import"] == ""
    [task] = call(server_client, "GET", f"/v2/images/{staged['id']}/tasks")[1]["tasks"]
    assert task["status"] == "success"


def test_stores_without_the_default_leave_nothing_there(server_client, server_aws, staged):
    assert _import(server_client, staged["id"], stores=["cold", "cold2"])[0] == 202
    _settle(server_client, server_aws)
    done = shown(server_client, staged["id"])
    assert done["status"] == "active" and done["stores"] == "cold,cold2"
    assert {loc.store for loc in image_db.get(staged["id"]).locations} == {"cold", "cold2"}
    assert len(keys_in(COLD, staged["id"])) == 1
    download = server_client.http.get(f"/v2/images/{staged['id']}/file", headers={
        "X-Project-Id": "admin", "X-Roles": "admin"})
    assert download.status_code in (200, 302)


def test_no_stores_means_the_default_store(server_client, server_aws, staged):
    assert _import(server_client, staged["id"])[0] == 202
    assert shown(server_client, staged["id"])["os_glance_importing_to_stores"] == "default"
    _settle(server_client, server_aws)
    assert shown(server_client, staged["id"])["stores"] == "default"


def test_an_unknown_store_is_409_and_nothing_starts(server_client, staged):
    status, body, _ = _import(server_client, staged["id"], stores=["nowhere"])
    assert status == 409, body
    assert shown(server_client, staged["id"])["status"] == "uploading"


def test_a_failed_web_download_moves_its_stores_to_failed(server_client, server_aws,
                                                          monkeypatch, origin,  # noqa: F811
                                                          trusting_loopback):  # noqa: F811
    configure_stores(monkeypatch)
    image = create_image(server_client)
    method = {"name": "web-download", "uri": f"{origin}/missing"}
    status, _, _ = call(server_client, "POST", f"/v2/images/{image['id']}/import",
                        {"method": method, "stores": ["cold"]})
    assert status == 202
    run_worker(server_client, server_aws)
    failed = shown(server_client, image["id"])
    reported = ("status", "os_glance_failed_import", "os_glance_importing_to_stores")
    assert [failed[name] for name in reported] == ["queued", "cold", ""]
    assert "404" in failed["os_glint_import_error"]  # Glint's own reason stays


def _import_until_activated(client, env, image_id, monkeypatch, **body):
    """Import, with every copy after the activation failing (the worker dies there); the
    messages that reached the worker are returned, for a redelivery."""
    def dies(_request):
        raise RuntimeError("the worker died after the activation")

    monkeypatch.setattr(import_stores, "copy_all", dies)
    assert _import(client, image_id, **body)[0] == 202
    delivered = []
    for _ in range(3):
        messages = drain(env.queue_url, wait=0)
        delivered += messages
        for message in messages:
            try:
                deliver(client, [message])
            except RuntimeError:
                pass
    monkeypatch.undo()
    image = image_db.get(image_id)
    assert image.status is Status.ACTIVE
    assert image.properties["os_glance_importing_to_stores"] == "cold"  # default: done with it
    return delivered


def test_a_redelivered_event_finishes_an_import_cut_short_after_activation(
        server_client, server_aws, staged, monkeypatch):
    delivered = _import_until_activated(server_client, server_aws, staged["id"], monkeypatch,
                                        stores=["cold"])
    deliver(server_client, delivered)  # SQS: the failed invocations' messages come back
    done = shown(server_client, staged["id"])
    assert done["stores"] == "cold" and done["os_glance_importing_to_stores"] == ""
    [task] = call(server_client, "GET", f"/v2/images/{staged['id']}/tasks")[1]["tasks"]
    assert task["status"] == "success"


def test_a_dead_lettered_event_after_activation_fails_the_stores_left(
        server_client, server_aws, staged, monkeypatch):
    delivered = _import_until_activated(server_client, server_aws, staged["id"], monkeypatch,
                                        stores=["cold"])
    for message in delivered:  # every attempt failed: the dead-letter handler has the last word
        server_client.lambda_.invoke("import_dead_letters", sqs_event(
            [message], "arn:aws:sqs:us-east-1:123456789012:imports-dlq", get_settings().region))
    done = shown(server_client, staged["id"])
    assert done["status"] == "active" and done["stores"] == "default"  # the data stays
    assert done["os_glance_importing_to_stores"] == ""
    assert done["os_glance_failed_import"] == "cold"
    [task] = call(server_client, "GET", f"/v2/images/{staged['id']}/tasks")[1]["tasks"]
    assert task["status"] == "failure"


def test_the_reaper_succeeds_a_task_whose_import_activated_its_image(
        server_client, server_aws, staged, monkeypatch):
    def dies(*_args, **_kwargs):
        raise RuntimeError("the worker died before the task's last write")

    monkeypatch.setattr(import_stores.task_progress, "succeed", dies)
    assert _import(server_client, staged["id"])[0] == 202
    for _ in range(3):
        for message in drain(server_aws.queue_url, wait=0):  # the messages are lost
            try:
                deliver(server_client, [message])
            except RuntimeError:
                pass
    monkeypatch.undo()
    assert shown(server_client, staged["id"])["status"] == "active"
    [task] = call(server_client, "GET", f"/v2/images/{staged['id']}/tasks")[1]["tasks"]
    assert task["status"] == "processing"
    recovery.reap(now=time.time() + 10 * get_settings().reap_after_seconds)
    [task] = call(server_client, "GET", f"/v2/images/{staged['id']}/tasks")[1]["tasks"]
    assert task["status"] == "success"
