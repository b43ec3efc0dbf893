"""Imports into chosen stores (several stores configured): glance-direct and web-download
with `stores` or `all_stores` land in exactly those stores, reported through Glance's
reserved properties as tempest's multistore tests read them."""
from __future__ import annotations

import os

import pytest

from chalicelib.db import images as image_db
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
