"""Discovery (`/v2/info/*`) and the discovery headers on image create."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.db import images as image_db
from chalicelib.domain.image import Location, PendingUpload, Status
from chalicelib.domain.uploads import MIB
from tests.support import call, create_image


def test_import_info_lists_the_configured_methods(client, glint_env):
    status, body, _ = call(client, "GET", "/v2/info/import")
    assert status == 200
    assert body == {"import-methods": {"description": "Import methods available.",
                                       "type": "array",
                                       "value": ["glance-direct", "web-download"]}}
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
    assert headers["OpenStack-image-import-methods"] == "glance-direct,web-download"
    assert headers["OpenStack-image-store-ids"] == "default"


def _store(image_id: str, **changes) -> None:
    image_db.save(replace(image_db.get(image_id), **changes))


def test_usage_counts_the_callers_images_against_limits(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="10", GLINT_QUOTA_IMAGE_SIZE_TOTAL="1024")
    stored = create_image(client, project="p1")
    _store(stored["id"], status=Status.ACTIVE, size=3 * MIB, locations=(
        Location(id="a", store="default", key="images/a"),
        Location(id="b", store="default", key="images/b"),
        Location(id="c", store="default", key="images/c", status="deleted")))
    staged = create_image(client, project="p1")
    _store(staged["id"], status=Status.UPLOADING,
           upload=PendingUpload(id="u", key="staging/u", size=5 * MIB))
    create_image(client, project="p1")  # queued, no data
    deleted = create_image(client, project="p1")
    call(client, "DELETE", f"/v2/images/{deleted['id']}", project="p1", roles="member")
    create_image(client, project="p2")
    status, body, _ = call(client, "GET", "/v2/info/usage", project="p1", roles="member")
    assert status == 200
    assert body == {"usage": {
        "image_size_total": {"limit": 1024, "usage": 6},
        "image_stage_total": {"limit": -1, "usage": 5},
        "image_count_total": {"limit": 10, "usage": 3},
        "image_count_uploading": {"limit": -1, "usage": 1},
    }}


def test_usage_of_an_empty_project_is_zero_and_unlimited(client):
    body = call(client, "GET", "/v2/info/usage", project="nobody", roles="member")[1]
    assert body["usage"]["image_count_total"] == {"limit": -1, "usage": 0}
    assert all(q == {"limit": -1, "usage": 0} for q in body["usage"].values())
