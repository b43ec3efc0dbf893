"""Images API through Chalice's test client over in-process moto."""
from __future__ import annotations

from chalicelib.db import images as image_db
from tests.support import PATCH, call, create_image


def test_create_image_returns_201_with_glance_fields_and_location(client):
    status, image, hdrs = call(client, "POST", "/v2/images",
                               {"name": "cirros", "disk_format": "qcow2",
                                "container_format": "bare", "os_distro": "cirros",
                                "tags": ["a", "b"]})
    assert status == 201
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["os_distro"] == "cirros" and sorted(image["tags"]) == ["a", "b"]
    assert image["self"] == f"/v2/images/{image['id']}"
    assert image["file"] == f"/v2/images/{image['id']}/file"
    assert hdrs["Location"].endswith(f"/v2/images/{image['id']}")
    assert image_db.get(image["id"]).properties == {"os_distro": "cirros"}


def test_create_image_with_chosen_id_twice_is_409(client):
    image_id = "8c8e5c0e-6b4d-4d0a-9b0c-0f3b7a9f1c11"
    assert call(client, "POST", "/v2/images", {"id": image_id})[0] == 201
    status, body, _ = call(client, "POST", "/v2/images", {"id": image_id})
    assert status == 409 and "already exists" in body["error"]["message"]


def test_create_image_rejects_bad_input_with_400_or_403(client):
    assert call(client, "POST", "/v2/images", "{not json")[0] == 400
    assert call(client, "POST", "/v2/images", ["a list"])[0] == 400
    assert call(client, "POST", "/v2/images", {"disk_format": "floppy"})[0] == 400
    assert call(client, "POST", "/v2/images", {"min_ram": "lots"})[0] == 400
    assert call(client, "POST", "/v2/images", {"custom": 5})[0] == 400
    assert call(client, "POST", "/v2/images", {"status": "active"})[0] == 403
    assert call(client, "POST", "/v2/images", {"os_glance_x": "1"})[0] == 403
    status, body, _ = call(client, "POST", "/v2/images", {"visibility": "public"},
                           project="p1", roles="member")
    assert status == 403 and "publicize_image" in body["error"]["message"]


def test_show_unknown_image_is_404_with_json_body(client):
    status, body, _ = call(client, "GET", "/v2/images/00000000-0000-0000-0000-000000000000")
    assert status == 404 and body["error"]["code"] == 404 and "No image found" in body["error"]["message"]


def test_other_projects_private_image_is_404_everywhere(client):
    image = create_image(client, project="p1", visibility="private")
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/file")]:
        status, _, _ = call(client, method, f"/v2/images/{image['id']}{path}",
                            project="p2", roles="member")
        assert status == 404, (method, path)
    status, _, _ = call(client, "PATCH", f"/v2/images/{image['id']}",
                        [{"op": "replace", "path": "/name", "value": "x"}], project="p2",
                        roles="member", content_type=PATCH)
    assert status == 404
    listed = call(client, "GET", "/v2/images", project="p2", roles="member")[1]["images"]
    assert image["id"] not in [i["id"] for i in listed]


def test_list_is_own_plus_public_newest_first_with_pagination(client):
    own = [create_image(client, project="p1", name=f"own{i}") for i in range(3)]
    public = create_image(client, project="admin", visibility="public", name="pub")
    create_image(client, project="p2", name="theirs")
    seen, path = [], "/v2/images?limit=2"
    while path:
        status, page, _ = call(client, "GET", path, project="p1", roles="member")
        assert status == 200 and len(page["images"]) <= 2
        seen += [i["id"] for i in page["images"]]
        path = page.get("next")
    assert seen == [public["id"]] + [i["id"] for i in reversed(own)]


def test_list_rejects_bad_limit_and_unknown_marker(client):
    assert call(client, "GET", "/v2/images?limit=abc")[0] == 400
    assert call(client, "GET", "/v2/images?limit=-1")[0] == 400
    assert call(client, "GET", "/v2/images?marker=00000000-0000-0000-0000-000000000000")[0] == 400


def test_patch_updates_properties_and_core_fields(client):
    image = create_image(client, foo="bar")
    ops = [{"op": "replace", "path": "/name", "value": "renamed"},
           {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
           {"op": "remove", "path": "/foo"},
           {"op": "replace", "path": "/min_ram", "value": 512}]
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", ops, content_type=PATCH)
    assert status == 200, body
    assert body["name"] == "renamed" and body["hw_disk_bus"] == "virtio" and "foo" not in body
    assert body["min_ram"] == 512
    stored = image_db.get(image["id"])
    assert stored.name == "renamed" and stored.properties == {"hw_disk_bus": "virtio"}


def test_patch_error_codes_follow_glance(client):
    image_id = create_image(client)["id"]
    path = f"/v2/images/{image_id}"

    def patch(ops, content_type=PATCH):
        return call(client, "PATCH", path, ops, content_type=content_type)

    status, _, hdrs = patch([{"op": "replace", "path": "/name", "value": "x"}],
                            content_type="application/json")
    assert status == 415 and "openstack-images-v2.1-json-patch" in hdrs["Accept-Patch"]
    assert patch({"op": "replace"})[0] == 400
    assert patch([{"op": "move", "path": "/name", "from": "/x"}])[0] == 400
    assert patch([{"op": "replace", "path": "/name"}])[0] == 400
    assert patch([{"op": "replace", "path": "/a/b", "value": "x"}])[0] == 400
    assert patch([{"op": "replace", "path": "/min_ram", "value": "x"}])[0] == 400
    assert patch([{"op": "replace", "path": "/status", "value": "active"}])[0] == 403
    assert patch([{"op": "add", "path": "/os_glance_foo", "value": "x"}])[0] == 403
    assert patch([{"op": "remove", "path": "/name"}])[0] == 403
    assert patch([{"op": "replace", "path": "/nope", "value": "x"}])[0] == 409
    assert patch([{"op": "remove", "path": "/nope"}])[0] == 409
    assert image_db.get(image_id).name == "test"  # nothing half-applied


def test_patch_2_0_media_type_is_accepted(client):
    image = create_image(client)
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}",
                           [{"replace": "/name", "value": "old-style"}],
                           content_type="application/openstack-images-v2.0-json-patch")
    assert status == 200 and body["name"] == "old-style"


def test_concurrent_patch_with_stale_version_is_409(client):
    from dataclasses import replace
    image = image_db.get(create_image(client)["id"])
    image_db.save(replace(image, name="first"))
    try:
        image_db.save(replace(image, name="second"))
    except Exception as exc:  # the domain error, mapped to 409 by the API
        from chalicelib.api.errors import status_for
        assert status_for(exc) == 409
    else:
        raise AssertionError("a stale write was accepted")
    assert image_db.get(image.id).name == "first"


def test_delete_image_then_404_and_id_not_reusable(client):
    image = create_image(client)
    assert call(client, "DELETE", f"/v2/images/{image['id']}")[0] == 204
    assert call(client, "GET", f"/v2/images/{image['id']}")[0] == 404
    assert call(client, "POST", "/v2/images", {"id": image["id"]})[0] == 409


def test_delete_protected_image_is_403(client):
    image = create_image(client, protected=True)
    assert call(client, "DELETE", f"/v2/images/{image['id']}")[0] == 403
    assert call(client, "GET", f"/v2/images/{image['id']}")[0] == 200


def test_version_documents(client):
    status, body, _ = call(client, "GET", "/")
    assert status == 300 and body["versions"][0]["status"] == "CURRENT"
    status, body, _ = call(client, "GET", "/versions")
    assert status == 200 and any(v["id"] == "v2.0" for v in body["versions"])


def test_schemas_are_served(client):
    status, schema, _ = call(client, "GET", "/v2/schemas/image")
    assert status == 200 and schema["name"] == "image"
    assert schema["additionalProperties"] == {"type": "string"}
    assert call(client, "GET", "/v2/schemas/images")[1]["name"] == "images"


def test_download_of_queued_image_is_204(client):
    image = create_image(client)
    assert call(client, "GET", f"/v2/images/{image['id']}/file")[0] == 204
