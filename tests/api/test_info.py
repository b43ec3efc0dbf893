"""Discovery (`/v2/info/*`) and the discovery headers on image create."""
from __future__ import annotations

from chalicelib.domain.uploads import MIB
from tests.support import call, create_image


def test_import_info_lists_the_configured_methods(client, glint_env):
    # One store: copy-image has nowhere to copy to, as in single-store Glance.
    status, body, _ = call(client, "GET", "/v2/info/import")
    assert status == 200
    assert body == {"import-methods": {"description": "Import methods available.",
                                       "type": "array",
                                       "value": ["glance-direct", "web-download"]}}
    glint_env(GLINT_IMPORT_METHODS="glance-direct")
    assert call(client, "GET", "/v2/info/import")[1]["import-methods"]["value"] == [
        "glance-direct"]


def test_one_store_answers_as_single_store_glance(client):
    status, body, _ = call(client, "GET", "/v2/info/stores")
    assert status == 404
    assert body["error"]["message"] == "Multi backend is not supported at this site."
    image = create_image(client)
    copy = {"method": {"name": "copy-image"}, "all_stores": True}
    status, body, _ = call(client, "POST", f"/v2/images/{image['id']}/import", copy)
    assert status == 400 and "copy-image is not enabled" in body["error"]["message"]


def test_one_store_refuses_all_stores_must_succeed_false(client):
    image = create_image(client)
    staged = client.http.put(f"/v2/images/{image['id']}/stage", body=b"x" * 10,
                             headers={"X-Project-Id": "admin", "X-Roles": "admin",
                                      "Content-Type": "application/octet-stream"})
    assert staged.status_code == 204
    body = {"method": {"name": "glance-direct"}, "all_stores_must_succeed": False}
    status, answer, _ = call(client, "POST", f"/v2/images/{image['id']}/import", body)
    assert status == 400
    assert "All_stores_must_succeed can only be set" in answer["error"]["message"]


def test_create_image_answers_with_discovery_headers(client):
    status, _, headers = call(client, "POST", "/v2/images", {"name": "x"})
    assert status == 201
    assert headers["OpenStack-image-import-methods"] == "glance-direct,web-download"
    assert "OpenStack-image-store-ids" not in headers  # single-store Glance sends none


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
