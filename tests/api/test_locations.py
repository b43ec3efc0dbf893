"""Images API 2.17's location API: a queued image gets the data at an http store's URL, which
the worker reads once to hash (a real HTTP origin on loopback), checks against the declared
hash and activates; Glance's synchronous 400/403/409 answers; the service role's list."""
from __future__ import annotations

import hashlib
import json
import time

import pytest

from chalicelib import aws
from chalicelib.config import get_settings
from tests.pipeline.test_web_import import DATA, origin  # noqa: F401
from tests.support import call, create_image, deliver, drain, override_settings

SHA256 = hashlib.sha256(DATA).hexdigest()
MEMBER = {"project": "p1", "roles": "member,reader"}
SERVICE = {"project": "svc", "roles": "service"}


@pytest.fixture()
def web_store(origin, monkeypatch):  # noqa: F811
    """Stores default, cold (a bucket) and web (read-only http, the origin's URLs)."""
    port = origin.rsplit(":", 1)[1]
    stores = [{"id": "default", "bucket": get_settings().bucket, "default": True},
              {"id": "cold", "bucket": "glint-test-cold"},
              {"id": "web", "url": f"{origin}/", "description": "read-only http"}]
    override_settings(monkeypatch, GLINT_STORES=json.dumps(stores),
                      GLINT_WEB_DOWNLOAD_TRUSTED_NETWORKS="127.0.0.1/32",
                      GLINT_WEB_DOWNLOAD_ALLOWED_PORTS=f"80,443,{port}")
    aws.s3().create_bucket(Bucket="glint-test-cold")
    return f"{origin}/disk.raw"


def _add(client, image_id, body, who=MEMBER):
    return call(client, "POST", f"/v2/images/{image_id}/locations", body, **who)


def _finish(client, env, image_id):
    deliver(client, drain(env.queue_url, wait=0))
    image = call(client, "GET", f"/v2/images/{image_id}")[1]
    tasks = call(client, "GET", f"/v2/images/{image_id}/tasks")[1]["tasks"]
    return image, tasks


def test_a_declared_hash_is_checked_and_the_image_activated(client, inprocess_aws, web_store):
    image = create_image(client, project="p1")
    status, _, _ = _add(client, image["id"], {"url": web_store, "validation_data": {
        "os_hash_algo": "sha256", "os_hash_value": SHA256}})
    assert status == 202
    shown, tasks = _finish(client, inprocess_aws, image["id"])
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert shown["checksum"] == hashlib.md5(DATA).hexdigest()
    assert (shown["os_hash_algo"], shown["os_hash_value"]) == ("sha256", SHA256)
    assert shown["stores"] == "web" and "os_glance_import_task" not in shown
    assert [(t["type"], t["status"]) for t in tasks] == [("location_import", "success")]
    assert tasks[0]["input"]["loc_url"] == web_store
    # The download is the http store's own URL.
    answer = client.http.get(f"/v2/images/{image['id']}/file",
                             headers={"X-Project-Id": "p1", "X-Roles": "member,reader"})
    assert answer.status_code in (301, 302, 303, 307) and answer.headers["Location"] == web_store


def test_without_validation_data_the_hash_is_sha512(client, inprocess_aws, web_store):
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    shown, _ = _finish(client, inprocess_aws, image["id"])
    assert shown["status"] == "active"
    assert (shown["os_hash_algo"], shown["os_hash_value"]) == (
        "sha512", hashlib.sha512(DATA).hexdigest())


def test_a_wrong_hash_fails_the_task_and_keeps_the_location_unserved(client, inprocess_aws,
                                                                     web_store):
    # As Glance 33 (bug 2076648, asserted by tempest): the location stays on the queued image.
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store, "validation_data": {
        "os_hash_algo": "sha512", "os_hash_value": "beefdead" * 16}})[0] == 202
    shown, tasks = _finish(client, inprocess_aws, image["id"])
    assert shown["status"] == "queued" and shown["stores"] == "web"
    download = client.http.get(f"/v2/images/{image['id']}/file",
                               headers={"X-Project-Id": "p1", "X-Roles": "member,reader"})
    assert download.status_code == 204  # a queued image has no data to serve
    assert shown["checksum"] is None and shown["os_hash_algo"] is None
    assert "not matched with actual os_hash_value" in shown["os_glint_import_error"]
    assert tasks[0]["status"] == "failure"
    assert "not matched" in tasks[0]["message"]
    # The image can take a location again.
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    assert _finish(client, inprocess_aws, image["id"])[0]["status"] == "active"


@pytest.mark.parametrize("validation, words", [
    ({"os_hash_algo": "sha512", "os_hash_value": "dbc9e0f80d131e64b94913a7b40bb5"},
     "not the correct size for (sha512)"),
    ({"os_hash_value": SHA256}, "'os_hash_algo' is a dependency of 'os_hash_value'"),
    ({"os_hash_algo": "sha123", "os_hash_value": SHA256}, "'sha123' is not one of"),
    ({"os_hash_algo": "sha512", "os_hash_value": SHA256}, "should be (64) bytes"),
    ({"os_hash_algo": "sha256", "os_hash_value": "zz" * 32}, "not a valid hexadecimal"),
    ({"os_hash_algo": "sha256", "os_hash_value": SHA256, "extra": 1}, "Additional properties"),
])
def test_malformed_validation_data_is_400(client, inprocess_aws, web_store, validation, words):
    image = create_image(client, project="p1")
    status, body, _ = _add(client, image["id"], {"url": web_store,
                                                 "validation_data": validation})
    assert status == 400 and words in json.dumps(body), body
    assert drain(inprocess_aws.queue_url, wait=0) == []


@pytest.mark.parametrize("url", [
    "http://192.0.2.2:38317/disk.raw",  # no configured store holds it (tempest's probe)
    "https://example.org/disk.raw",
    "file:///etc/passwd",
])
def test_a_url_outside_every_store_does_not_pass_filtering(client, inprocess_aws, web_store,
                                                            url):
    image = create_image(client, project="p1")
    status, body, _ = _add(client, image["id"], {"url": url})
    assert status == 400 and "does not pass filtering" in json.dumps(body)
    assert drain(inprocess_aws.queue_url, wait=0) == []


def test_only_a_queued_image_takes_a_location(client, inprocess_aws, web_store):
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    assert _add(client, image["id"], {"url": web_store})[0] == 409  # the first still runs
    _finish(client, inprocess_aws, image["id"])
    status, body, _ = _add(client, image["id"], {"url": web_store})
    assert status == 409 and "image status is active" in json.dumps(body)


def test_who_may_add_and_list(client, inprocess_aws, web_store):
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store},
                {"project": "p2", "roles": "member,reader"})[0] == 404
    assert _add(client, image["id"], {"url": web_store},
                {"project": "p1", "roles": "reader"})[0] == 403
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    _finish(client, inprocess_aws, image["id"])
    path = f"/v2/images/{image['id']}/locations"
    assert call(client, "GET", path, **MEMBER)[0] == 403
    assert call(client, "GET", path, project="admin", roles="admin")[0] == 403
    status, listed, _ = call(client, "GET", path, project="p1", roles="member,reader,service")
    assert status == 200 and listed == [{"url": web_store, "metadata": {"store": "web"}}]


def test_users_need_an_http_store(client, inprocess_aws):
    image = create_image(client, project="p1")
    status, body, _ = _add(client, image["id"], {"url": "http://127.0.0.1:8765/x.raw"})
    assert status == 403 and "http store must be enabled" in json.dumps(body)
    # The service role may try, but the URL must still be in a configured store.
    status, body, _ = _add(client, image["id"], {"url": "http://127.0.0.1:8765/x.raw"},
                           {"project": "p1", "roles": "member,service"})
    assert status == 400 and "does not pass filtering" in json.dumps(body)


def test_the_http_store_is_read_only(client, inprocess_aws, web_store):
    stores = call(client, "GET", "/v2/info/stores")[1]["stores"]
    assert {"id": "web", "description": "read-only http", "read-only": "true"} in stores
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    _finish(client, inprocess_aws, image["id"])
    status, _, _ = call(client, "POST", f"/v2/images/{image['id']}/import",
                        {"method": {"name": "copy-image"}, "stores": ["web"]})
    assert status == 409
    # Deleting the image leaves the http store alone (nothing of it is Glint's to delete).
    assert call(client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    assert call(client, "GET", f"/v2/images/{image['id']}")[0] == 404


def test_the_version_document_says_2_17(client):
    versions = call(client, "GET", "/versions")[1]["versions"]
    assert versions[0] == {**versions[0], "id": "v2.17", "status": "CURRENT"}


def test_a_lost_request_is_reaped_and_the_image_may_try_again(client, inprocess_aws,
                                                              web_store):
    from chalicelib.pipeline import recovery
    image = create_image(client, project="p1")
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    drain(inprocess_aws.queue_url, wait=0)  # the request is lost
    recovery.reap(now=time.time() + 24 * 3600)
    task = call(client, "GET", f"/v2/images/{image['id']}/tasks")[1]["tasks"][0]
    assert task["status"] == "failure" and "Location import abandoned" in task["message"]
    assert call(client, "GET", f"/v2/images/{image['id']}")[1]["status"] == "queued"
    assert _add(client, image["id"], {"url": web_store})[0] == 202
    assert _finish(client, inprocess_aws, image["id"])[0]["status"] == "active"
