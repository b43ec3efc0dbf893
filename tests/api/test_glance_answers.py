"""Answers that Glance's conformance suite (tempest) checks: methods a path does not serve,
empty ids, an admin giving an image away, and the bounds on core integers."""
from __future__ import annotations

import pytest

from tests.support import PATCH, call, create_image


def test_a_method_a_path_does_not_serve_is_405_with_allow(client):
    status, body, headers = call(client, "PUT", "/v2/images")
    assert status == 405
    assert headers["Allow"] == "GET, POST"
    assert body["error"] == {"code": 405, "title": "Method Not Allowed",
                             "message": "The method PUT is not allowed for this resource."}
    assert call(client, "POST", "/v2/images/some-id")[2]["Allow"] == "GET, PATCH, DELETE"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_empty_image_id_is_404_not_the_list(client, method):
    create_image(client)
    status, body, _ = call(client, method, "/v2/images/")
    assert status == 404
    assert body["error"]["code"] == 404 and "images" not in body


def test_an_admin_gives_an_image_away_and_its_usage_follows(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="5")
    image = create_image(client, project="p1")
    change = [{"op": "replace", "path": "/owner", "value": "p2"}]
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", change,
                           content_type=PATCH)
    assert status == 200 and body["owner"] == "p2"
    usage = {p: call(client, "GET", "/v2/info/usage", project=p, roles="member")[1]["usage"]
             for p in ("p1", "p2")}
    assert usage["p1"]["image_count_total"]["usage"] == 0
    assert usage["p2"]["image_count_total"]["usage"] == 1
    assert call(client, "GET", f"/v2/images/{image['id']}", project="p2",
                roles="member")[0] == 200


def test_a_member_may_not_change_the_owner(client):
    image = create_image(client, project="p1")
    change = [{"op": "replace", "path": "/owner", "value": "p1"}]
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", change, project="p1",
                           roles="member", content_type=PATCH)
    assert status == 403
    assert body["error"]["message"] == "Owner can't be updated by non admin."


@pytest.mark.parametrize("field, value, message", [
    ("min_ram", -1, "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value"),
    ("min_disk", -5, "Invalid value '-5' for parameter 'min_disk': Cannot be a negative value"),
    ("min_ram", 2**31, "'min_ram' value out of range, must not exceed 2147483647."),
    ("min_disk", 10**20, "'min_disk' value out of range, must not exceed 2147483647."),
])
def test_core_integers_keep_glances_bounds(client, field, value, message):
    status, body, _ = call(client, "POST", "/v2/images", {field: value})
    assert status == 400 and body["error"]["message"] == message
    image = create_image(client)
    change = [{"op": "replace", "path": f"/{field}", "value": value}]
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", change,
                           content_type=PATCH)
    assert status == 400 and body["error"]["message"] == message


@pytest.mark.parametrize("body", [
    {"name": "n" * 256}, {"tags": ["t" * 256]}, {"protected": "yes"}, {"os_hidden": 1},
    {"min_ram": "5"}, {"min_disk": 1.5}, {"min_ram": True}, {"visibility": "everyone"},
    {"disk_format": "floppy"}, {"container_format": "crate"},
])
def test_every_writable_core_property_is_checked_against_the_schema(client, body):
    status, answer, _ = call(client, "POST", "/v2/images", body)
    assert status == 400, answer
    image = create_image(client)
    [(field, value)] = body.items()
    change = [{"op": "replace", "path": f"/{field}", "value": value}]
    assert call(client, "PATCH", f"/v2/images/{image['id']}", change,
                content_type=PATCH)[0] == 400
