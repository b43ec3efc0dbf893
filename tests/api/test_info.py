"""Discovery (`/v2/info/*`) and the discovery headers on image create."""
from __future__ import annotations

from chalicelib.domain.uploads import MIB
from tests.support import call, create_image


def test_import_info_lists_the_configured_methods(client, glint_env):
    status, body, _ = call(client, "GET", "/v2/info/import")
    assert status == 200
    assert body == {"import-methods": {"description": "Import methods available.",
                                       "type": "array",
                                       "value": ["glance-direct", "web-download",
                                                 "copy-image"]}}
    glint_env(GLINT_IMPORT_METHODS="glance-direct")
    assert call(client, "GET", "/v2/info/import")[1]["import-methods"]["value"] == [
        "glance-direct"]


def test_stores_list_the_default_store(client):
    status, body, _ = call(client, "GET", "/v2/info/stores")
    assert status == 200
    [store] = body["stores"]
    assert store["id"] == "default" and store["default"] is True and store["description"]


def test_create_image_answers_with_discovery_headers(client):
    status, _, headers = call(client, "POST", "/v2/images", {"name": "x"})
    assert status == 201
    assert headers["OpenStack-image-import-methods"] == "glance-direct,web-download,copy-image"
    assert headers["OpenStack-image-store-ids"] == "default"


def test_usage_counts_the_callers_images_against_limits(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="10", GLINT_QUOTA_IMAGE_SIZE_TOTAL="1024")
    member = {"X-Project-Id": "p1", "X-Roles": "member",
              "Content-Type": "application/octet-stream"}
    stored = create_image(client, project="p1")
    assert client.http.put(f"/v2/images/{stored['id']}/file", headers=member,
                           body=b"s" * 3 * MIB).status_code == 204
    staged = create_image(client, project="p1")
    assert client.http.put(f"/v2/images/{staged['id']}/stage", headers=member,
                           body=b"u" * 2 * MIB).status_code == 204
    create_image(client, project="p1")  # queued, no data
    deleted = create_image(client, project="p1")
    call(client, "DELETE", f"/v2/images/{deleted['id']}", project="p1", roles="member")
    create_image(client, project="p2")
    status, body, _ = call(client, "GET", "/v2/info/usage", project="p1", roles="member")
    assert status == 200
    # Bytes on their way in count against the stored total too, so uploads cannot overshoot.
    assert body == {"usage": {
        "image_size_total": {"limit": 1024, "usage": 3 + 2},
        "image_stage_total": {"limit": -1, "usage": 2},
        "image_count_total": {"limit": 10, "usage": 3},
        "image_count_uploading": {"limit": -1, "usage": 1},
    }}


def test_usage_of_an_empty_project_is_zero_and_unlimited(client):
    body = call(client, "GET", "/v2/info/usage", project="nobody", roles="member")[1]
    assert body["usage"]["image_count_total"] == {"limit": -1, "usage": 0}
    assert all(q == {"limit": -1, "usage": 0} for q in body["usage"].values())
