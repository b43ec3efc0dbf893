"""Multi-store API: copy-image's checks, DELETE /v2/stores/{store}/{image}, the download's
choice of store (?prefer=, then weights), the `stores` field and /v2/info/stores."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import usage as usage_db
from tests.multistore import (COLD, active_image, configure_stores, keys_in, request_copy,
                              run_worker, shown)
from tests.support import PATCH, call, create_image

DATA = os.urandom(50_000)
HOT = get_settings().bucket


@pytest.fixture()
def image(client, inprocess_aws, monkeypatch):
    configure_stores(monkeypatch)
    return active_image(client, DATA)


@pytest.fixture()
def copied(client, inprocess_aws, image):
    """The image, copied to the cold store as well."""
    assert request_copy(client, image["id"], stores=["cold"])[0] == 202
    run_worker(client, inprocess_aws)
    assert shown(client, image["id"])["stores"] == "default,cold"
    return image


def _download_bucket(client, image_id: str, query: str = "") -> str:
    """The bucket the download redirects to (virtual-hosted or path-style URL)."""
    response = client.http.get(f"/v2/images/{image_id}/file{query}",
                               headers={"X-Project-Id": "admin", "X-Roles": "admin"})
    assert response.status_code == 302, response.body
    url = urlsplit(response.headers["Location"])
    host = url.hostname or ""
    return host.split(".s3.")[0] if ".s3." in host else url.path.split("/")[1]


@pytest.mark.parametrize(("body", "status"), [
    ({"stores": ["nowhere"]}, 409),
    ({"stores": ["default"]}, 400),
    ({"stores": "cold"}, 400),
    ({"all_stores": True, "stores": ["cold"]}, 400),
    ({"all_stores": "yes"}, 400),
    ({"stores": ["cold"], "all_stores_must_succeed": "false"}, 400),
    ({}, 400),  # no stores: the default store, which holds the image already
])
def test_copy_image_refuses_bad_requests(client, image, body, status):
    answer = request_copy(client, image["id"], **body)
    assert answer[0] == status, answer
    assert "os_glance_importing_to_stores" not in shown(client, image["id"])


def test_copy_image_is_for_admins_and_active_images(client, inprocess_aws, monkeypatch):
    configure_stores(monkeypatch)
    owned = active_image(client, DATA, project="p1")
    body = {"method": {"name": "copy-image"}, "stores": ["cold"]}
    path = f"/v2/images/{owned['id']}/import"
    assert call(client, "POST", path, body, project="p1", roles="member")[0] == 403
    assert call(client, "POST", path, body, project="p2", roles="member")[0] == 404
    queued = create_image(client)
    assert request_copy(client, queued["id"], stores=["cold"])[0] == 409


def test_copy_image_refuses_a_store_still_being_filled(client, image):
    assert request_copy(client, image["id"], stores=["cold"])[0] == 202
    assert request_copy(client, image["id"], stores=["cold"])[0] == 409
    assert request_copy(client, image["id"], all_stores=True)[0] == 409


def test_clients_cannot_set_the_progress_properties(client, image):
    request_copy(client, image["id"], stores=["cold"])
    for op in ({"op": "replace", "path": "/os_glance_importing_to_stores", "value": ""},
               {"op": "add", "path": "/os_glance_failed_import", "value": "cold"}):
        status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", [op],
                               content_type=PATCH)
        assert status == 403, body
    # Other changes keep them.
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}",
                           [{"op": "add", "path": "/color", "value": "blue"}], content_type=PATCH)
    assert status == 200 and body["os_glance_importing_to_stores"] == "cold"


def test_delete_from_store_removes_that_copy_only(client, copied):
    status, body, _ = call(client, "DELETE", f"/v2/stores/cold/{copied['id']}")
    assert status == 204, body
    assert keys_in(COLD, copied["id"]) == []
    after = shown(client, copied["id"])
    assert after["stores"] == "default" and after["status"] == "active"
    assert [loc.store for loc in image_db.get(copied["id"]).locations] == ["default"]


def test_delete_from_store_refuses_the_last_copy(client, copied):
    assert call(client, "DELETE", f"/v2/stores/default/{copied['id']}")[0] == 204
    status, body, _ = call(client, "DELETE", f"/v2/stores/cold/{copied['id']}")
    assert status == 403 and "only store" in body["error"]["message"]
    assert shown(client, copied["id"])["stores"] == "cold"
    assert _download_bucket(client, copied["id"]) == COLD


def test_delete_from_store_error_codes(client, copied):
    image_id = copied["id"]
    assert call(client, "DELETE", f"/v2/stores/nowhere/{image_id}")[0] == 409
    assert call(client, "DELETE", f"/v2/stores/cold2/{image_id}")[0] == 404
    assert call(client, "DELETE", "/v2/stores/cold/0b8d1a2e-0000-4000-8000-000000000000")[0] == 404
    assert call(client, "DELETE", f"/v2/stores/cold/{image_id}", project="p2",
                roles="member")[0] == 404  # another project's private image
    call(client, "PATCH", f"/v2/images/{image_id}",
         [{"op": "replace", "path": "/visibility", "value": "public"}], content_type=PATCH)
    assert call(client, "DELETE", f"/v2/stores/cold/{image_id}", project="p2",
                roles="member")[0] == 403  # visible, but admins only
    assert call(client, "POST", f"/v2/images/{image_id}/actions/deactivate")[0] == 204
    assert call(client, "DELETE", f"/v2/stores/cold/{image_id}")[0] == 409


def test_download_prefers_the_asked_stores_then_the_heaviest(client, copied):
    image_id = copied["id"]
    assert _download_bucket(client, image_id) == HOT  # default weighs 100, cold 10
    assert _download_bucket(client, image_id, "?prefer=cold") == COLD
    assert _download_bucket(client, image_id, "?prefer=nowhere,cold,default") == COLD
    assert _download_bucket(client, image_id, "?prefer=cold2") == HOT  # not there: by weight


def test_download_follows_the_operators_weights(client, copied, monkeypatch):
    configure_stores(monkeypatch, weights={"cold": 500})
    assert _download_bucket(client, copied["id"]) == COLD
    assert _download_bucket(client, copied["id"], "?prefer=default") == HOT


def test_info_stores_lists_the_configured_stores(client, image):
    status, body, _ = call(client, "GET", "/v2/info/stores")
    assert status == 200
    assert body["stores"] == [
        {"id": "default", "description": "Hot", "default": True},
        {"id": "cold", "description": "Image store cold."},
        {"id": "cold2", "description": "Image store cold2."}]
    headers = call(client, "POST", "/v2/images", {"name": "x"})[2]
    assert headers["OpenStack-image-store-ids"] == "default,cold,cold2"


def test_stores_field_shows_where_the_data_is(client, inprocess_aws, monkeypatch):
    active = active_image(client, DATA)
    assert "stores" not in shown(client, active["id"])  # one store: single-store Glance's view
    configure_stores(monkeypatch)
    queued = create_image(client)
    assert "stores" not in shown(client, queued["id"])
    assert shown(client, active["id"])["stores"] == "default"


def test_each_copy_counts_against_image_size_total_until_it_goes(client, copied):
    def stored() -> int:
        return usage_db.read("admin").counters.get("image_size_total", 0)

    assert stored() == 2 * len(DATA)
    assert call(client, "DELETE", f"/v2/stores/cold/{copied['id']}")[0] == 204
    assert stored() == len(DATA)
    assert call(client, "DELETE", f"/v2/images/{copied['id']}")[0] == 204
    assert stored() == 0
