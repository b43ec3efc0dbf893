"""Project quotas through the API (in-process moto): charges on create, upload and stage,
the 413 body, the admins' per-project limits, per-image property/tag bounds, body size."""
from __future__ import annotations

import json

from tests.support import PATCH, call, create_image

MIB = 1024 * 1024
OCTETS = "application/octet-stream"


def _usage(client, project):
    return call(client, "GET", "/v2/info/usage", project=project, roles="member")[1]["usage"]


def _set_limits(client, project, **limits):
    status, body, _ = call(client, "PUT", f"/v2/quotas/{project}", limits)
    assert status == 200, body
    return body


def _start(client, image_id, size, project="p1"):
    return call(client, "POST", f"/v2/images/{image_id}/uploads", {"size": size},
                project=project, roles="member")


def test_image_count_limit_gives_413_with_limit_and_usage(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="2")
    create_image(client, project="p1")
    create_image(client, project="p1")
    status, body, _ = call(client, "POST", "/v2/images", {"name": "x"}, project="p1",
                           roles="member")
    assert status == 413
    error = body["error"]
    assert error["code"] == 413 and error["title"] == "Request Entity Too Large"
    assert error["message"] == ("Project p1 is over a limit for [Resource image_count_total is "
                                "over limit of 2 due to current usage 2 and delta 1]")
    assert (error["quota"], error["limit"], error["usage"], error["delta"]) == (
        "image_count_total", 2, 2, 1)
    assert create_image(client, project="p2")["owner"] == "p2"  # other projects are not affected
    assert _usage(client, "p1")["image_count_total"] == {"limit": 2, "usage": 2}


def test_delete_gives_the_count_back(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="1")
    image = create_image(client, project="p1")
    assert call(client, "DELETE", f"/v2/images/{image['id']}", project="p1",
                roles="member")[0] == 204
    assert _usage(client, "p1")["image_count_total"] == {"limit": 1, "usage": 0}
    create_image(client, project="p1")


def test_a_failed_create_holds_nothing(client):
    image = create_image(client, project="p1")
    status, _, _ = call(client, "POST", "/v2/images", {"id": image["id"]}, project="p1",
                        roles="member")
    assert status == 409
    assert _usage(client, "p1")["image_count_total"]["usage"] == 1


def test_admin_creating_for_another_project_charges_the_owner(client):
    create_image(client, owner="p9")
    assert _usage(client, "p9")["image_count_total"]["usage"] == 1
    assert _usage(client, "admin")["image_count_total"]["usage"] == 0


def test_presign_holds_declared_bytes_and_one_upload(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_UPLOADING="1", GLINT_QUOTA_IMAGE_STAGE_TOTAL="10")
    first, second = create_image(client, project="p1"), create_image(client, project="p1")
    assert _start(client, first["id"], 3 * MIB)[0] == 201
    usage = _usage(client, "p1")
    assert usage["image_count_uploading"] == {"limit": 1, "usage": 1}
    assert usage["image_stage_total"] == {"limit": 10, "usage": 3}
    assert usage["image_size_total"] == {"limit": -1, "usage": 3}
    status, body, _ = _start(client, second["id"], MIB)
    assert status == 413 and body["error"]["quota"] == "image_count_uploading"
    # A new upload for the same image replaces the pending one: only the difference counts.
    status, grant, _ = _start(client, first["id"], 8 * MIB)
    assert status == 201, grant
    assert _usage(client, "p1")["image_stage_total"]["usage"] == 8
    status, body, _ = _start(client, first["id"], 11 * MIB)
    assert status == 413 and body["error"]["quota"] == "image_stage_total"
    # Measured against the replaced upload's hold: 8 MiB held, 3 MiB more asked for.
    assert (body["error"]["usage"], body["error"]["delta"]) == (8, 3)
    assert call(client, "DELETE", f"/v2/images/{first['id']}/uploads/{grant['upload_id']}",
                project="p1", roles="member")[0] == 204
    assert all(q["usage"] == 0 for name, q in _usage(client, "p1").items()
               if name != "image_count_total")


def test_size_total_limit_counts_uploads_in_flight(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_SIZE_TOTAL="5")
    first, second = create_image(client, project="p1"), create_image(client, project="p1")
    assert _start(client, first["id"], 4 * MIB)[0] == 201
    status, body, _ = _start(client, second["id"], 2 * MIB)
    assert status == 413
    assert body["error"]["message"] == (
        "Project p1 is over a limit for [Resource image_size_total is over limit of 5 MiB due "
        "to current usage 4 MiB and delta 2 MiB]")


def test_stage_is_charged_and_refused_past_the_limit(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_STAGE_TOTAL="1")
    image = create_image(client, project="p1")
    headers = {"X-Project-Id": "p1", "X-Roles": "member", "Content-Type": OCTETS}
    path = f"/v2/images/{image['id']}/stage"
    response = client.http.put(path, headers=headers, body=b"x" * (MIB + 1))
    assert response.status_code == 413, response.body
    assert json.loads(response.body)["error"]["quota"] == "image_stage_total"
    assert client.http.put(path, headers=headers, body=b"x" * MIB).status_code == 204
    assert _usage(client, "p1")["image_stage_total"] == {"limit": 1, "usage": 1}
    assert call(client, "DELETE", f"/v2/images/{image['id']}", project="p1",
                roles="member")[0] == 204
    assert all(q["usage"] == 0 for q in _usage(client, "p1").values())


def test_admin_sets_and_clears_a_projects_limits(client, glint_env):
    glint_env(GLINT_QUOTA_IMAGE_COUNT_TOTAL="5")
    body = _set_limits(client, "p1", image_count_total=1, image_size_total=2048)
    assert body["project_id"] == "p1"
    assert body["overrides"] == {"image_count_total": 1, "image_size_total": 2048}
    assert body["usage"]["image_count_total"] == {"limit": 1, "usage": 0}
    assert body["usage"]["image_size_total"] == {"limit": 2048, "usage": 0}
    create_image(client, project="p1")
    assert call(client, "POST", "/v2/images", {}, project="p1", roles="member")[0] == 413
    create_image(client, project="p2")
    create_image(client, project="p2")  # the default (5) still applies elsewhere
    body = _set_limits(client, "p1", image_count_total=None)
    assert body["overrides"] == {"image_size_total": 2048}
    assert body["usage"]["image_count_total"] == {"limit": 5, "usage": 1}
    create_image(client, project="p1")
    status, shown, _ = call(client, "GET", "/v2/quotas/p1")
    assert status == 200 and shown["usage"]["image_count_total"]["usage"] == 2
    assert _usage(client, "p1")["image_size_total"]["limit"] == 2048


def test_lowering_a_limit_below_usage_stops_new_charges_only(client):
    image = create_image(client, project="p1")
    _set_limits(client, "p1", image_count_total=0)
    assert call(client, "POST", "/v2/images", {}, project="p1", roles="member")[0] == 413
    assert call(client, "DELETE", f"/v2/images/{image['id']}", project="p1",
                roles="member")[0] == 204
    _set_limits(client, "p1", image_count_total=-1)
    create_image(client, project="p1")


def test_quotas_api_is_for_admins_only(client):
    for method, body in (("GET", None), ("PUT", {"image_count_total": 1000})):
        status, answer, _ = call(client, method, "/v2/quotas/p1", body, project="p1",
                                 roles="member")
        assert status == 403, answer


def test_quotas_api_rejects_bad_limits(client):
    for body in ({"image_count_total": -5}, {"bytes": 1}, [], {}):
        assert call(client, "PUT", "/v2/quotas/p1", body)[0] == 400


def test_property_quota_on_create_and_patch(client, glint_env):
    glint_env(GLINT_IMAGE_PROPERTY_QUOTA="2")
    status, body, _ = call(client, "POST", "/v2/images", {"a": "1", "b": "2", "c": "3"})
    assert status == 413
    assert body["error"]["message"] == ("The limit has been exceeded on the number of allowed "
                                        "image properties. Attempted: 3, Maximum: 2")
    image = create_image(client, a="1", b="2")
    path = f"/v2/images/{image['id']}"
    add_c = [{"op": "add", "path": "/c", "value": "3"}]
    assert call(client, "PATCH", path, add_c, content_type=PATCH)[0] == 413
    swap = [{"op": "remove", "path": "/a"}, {"op": "add", "path": "/c", "value": "3"}]
    status, patched, _ = call(client, "PATCH", path, swap, content_type=PATCH)
    assert status == 200 and patched["c"] == "3" and "a" not in patched


def test_tag_quota_on_create_patch_and_put_tag(client, glint_env):
    glint_env(GLINT_IMAGE_TAG_QUOTA="2")
    assert call(client, "POST", "/v2/images", {"tags": ["a", "b", "c"]})[0] == 413
    image = create_image(client, tags=["a", "b"])
    path = f"/v2/images/{image['id']}"
    status, body, _ = call(client, "PATCH", path, [{"op": "replace", "path": "/tags",
                                                    "value": ["a", "b", "c"]}],
                           content_type=PATCH)
    assert status == 413 and "image tags. Attempted: 3, Maximum: 2" in body["error"]["message"]
    assert call(client, "PUT", f"{path}/tags/c")[0] == 413
    assert call(client, "PATCH", path, [{"op": "replace", "path": "/tags", "value": ["c"]}],
                content_type=PATCH)[0] == 200


def test_property_key_and_value_lengths(client):
    assert call(client, "POST", "/v2/images", {"k" * 256: "v"})[0] == 400
    image = create_image(client)
    too_long = [{"op": "add", "path": "/k", "value": "v" * 65536}]
    assert call(client, "PATCH", f"/v2/images/{image['id']}", too_long,
                content_type=PATCH)[0] == 400


def test_request_body_size_is_bounded(client, glint_env):
    glint_env(GLINT_MAX_REQUEST_BODY_BYTES="1000")
    status, body, _ = call(client, "POST", "/v2/images", {"name": "x" * 1000})
    assert status == 413 and body["error"]["limit"] == 1000
    assert call(client, "POST", "/v2/images", {"name": "x"})[0] == 201
