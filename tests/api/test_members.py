"""Image members (sharing) through Chalice's test client over in-process moto."""
from __future__ import annotations

from typing import Any

from chalicelib.db import members as member_db
from tests.support import PATCH, call, create_image


def as_project(client, project: str, method: str, path: str, body: Any = None):
    """A call by a non-admin project."""
    return call(client, method, path, body, project=project, roles="member")


def share(client, image_id: str, member: str, owner: str = "p1") -> None:
    status, body, _ = as_project(client, owner, "POST", f"/v2/images/{image_id}/members",
                                 {"member": member})
    assert status == 200, body


def answer(client, image_id: str, member: str, status: str) -> None:
    code, body, _ = as_project(client, member, "PUT",
                               f"/v2/images/{image_id}/members/{member}", {"status": status})
    assert code == 200, body


def listed_ids(client, project: str, path: str = "/v2/images") -> list[str]:
    return [i["id"] for i in as_project(client, project, "GET", path)[1]["images"]]


def test_add_member_returns_200_with_a_pending_member_and_stores_it(client, published):
    image = create_image(client, project="p1")
    status, body, _ = as_project(client, "p1", "POST", f"/v2/images/{image['id']}/members",
                                 {"member": "p2"})
    assert status == 200
    assert body["image_id"] == image["id"] and body["member_id"] == "p2"
    assert body["status"] == "pending" and body["schema"] == "/v2/schemas/member"
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert member_db.get(image["id"], "p2").status == "pending"
    name, detail = published[-1]
    assert name == "image.member.create" and detail["owner"] == "p1"
    assert detail["member"]["member_id"] == "p2" and detail["member"]["deleted"] is False


def test_add_member_rejects_bad_bodies_with_400(client):
    path = f"/v2/images/{create_image(client, project='p1')['id']}/members"
    for body in (None, "{not json", ["p2"], {}, {"member": ""}, {"member": 5},
                 {"member": "x" * 256}):
        assert as_project(client, "p1", "POST", path, body)[0] == 400, body
    assert member_db.list_for_image(path.split("/")[3]) == []


def test_add_member_twice_is_409(client):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    status, body, _ = as_project(client, "p1", "POST", f"/v2/images/{image['id']}/members",
                                 {"member": "p2"})
    assert status == 409 and "duplicated" in body["error"]["message"]


def test_add_member_past_the_limit_is_413(client, glint_env):
    glint_env(GLINT_IMAGE_MEMBER_QUOTA="2")
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    share(client, image["id"], "p3")
    status, _, _ = as_project(client, "p1", "POST", f"/v2/images/{image['id']}/members",
                              {"member": "p4"})
    assert status == 413
    assert member_db.count(image["id"]) == 2


def test_members_need_a_shared_image(client):
    image = create_image(client, project="p1", visibility="private")
    base = f"/v2/images/{image['id']}/members"
    assert as_project(client, "p1", "POST", base, {"member": "p2"})[0] == 403
    status, body, _ = as_project(client, "p1", "GET", base)
    assert status == 403 and "Only shared images have members" in body["error"]["message"]
    assert as_project(client, "p1", "PUT", f"{base}/p2", {"status": "accepted"})[0] == 403
    assert as_project(client, "p1", "DELETE", f"{base}/p2")[0] == 403
    # Glance hides the reason on show: 404.
    assert as_project(client, "p1", "GET", f"{base}/p2")[0] == 404


def test_only_the_owner_adds_and_removes_members(client):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    base = f"/v2/images/{image['id']}/members"
    assert as_project(client, "p2", "POST", base, {"member": "p3"})[0] == 403
    assert as_project(client, "p2", "DELETE", f"{base}/p2")[0] == 403
    assert as_project(client, "p3", "POST", base, {"member": "p3"})[0] == 404  # non-member
    assert [m.member_id for m in member_db.list_for_image(image["id"])] == ["p2"]


def test_list_members_owner_sees_all_member_sees_itself_others_get_404(client):
    image = create_image(client, project="p1")
    share(client, image["id"], "p3")
    share(client, image["id"], "p2")
    base = f"/v2/images/{image['id']}/members"
    status, body, _ = as_project(client, "p1", "GET", base)
    assert status == 200 and body["schema"] == "/v2/schemas/members"
    assert [m["member_id"] for m in body["members"]] == ["p2", "p3"]
    assert [m["member_id"] for m in as_project(client, "p2", "GET", base)[1]["members"]] == ["p2"]
    assert as_project(client, "p4", "GET", base)[0] == 404
    assert [m["member_id"] for m in call(client, "GET", base)[1]["members"]] == ["p2", "p3"]


def test_show_member_is_for_the_owner_and_that_member(client):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    share(client, image["id"], "p3")
    base = f"/v2/images/{image['id']}/members"
    assert as_project(client, "p1", "GET", f"{base}/p2")[1]["status"] == "pending"
    assert as_project(client, "p2", "GET", f"{base}/p2")[0] == 200
    assert as_project(client, "p2", "GET", f"{base}/p3")[0] == 404  # another member's record
    assert as_project(client, "p4", "GET", f"{base}/p2")[0] == 404  # not a member
    assert as_project(client, "p1", "GET", f"{base}/p9")[0] == 404  # no such member


def test_only_the_member_sets_its_status(client, published):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    share(client, image["id"], "p3")
    path = f"/v2/images/{image['id']}/members/p2"
    status, body, _ = as_project(client, "p2", "PUT", path, {"status": "accepted"})
    assert status == 200 and body["status"] == "accepted"
    assert member_db.get(image["id"], "p2").status == "accepted"
    assert published[-1][0] == "image.member.update"
    assert published[-1][1]["member"]["status"] == "accepted"
    assert as_project(client, "p1", "PUT", path, {"status": "rejected"})[0] == 403  # owner
    assert as_project(client, "p3", "PUT", path, {"status": "rejected"})[0] == 404
    assert as_project(client, "p4", "PUT", path, {"status": "rejected"})[0] == 404
    assert call(client, "PUT", path, {"status": "rejected"})[0] == 200  # admin
    assert member_db.get(image["id"], "p2").status == "rejected"


def test_update_member_rejects_bad_status_with_400(client):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    path = f"/v2/images/{image['id']}/members/p2"
    for body in (None, {}, {"status": "maybe"}, {"status": None}, ["accepted"]):
        assert as_project(client, "p2", "PUT", path, body)[0] == 400, body
    assert member_db.get(image["id"], "p2").status == "pending"


def test_remove_member_is_204_then_404(client, published):
    image = create_image(client, project="p1")
    share(client, image["id"], "p2")
    path = f"/v2/images/{image['id']}/members/p2"
    assert as_project(client, "p1", "DELETE", path)[0] == 204
    assert member_db.find(image["id"], "p2") is None
    name, detail = published[-1]
    assert name == "image.member.delete" and detail["member"]["deleted"] is True
    assert detail["member"]["deleted_at"].endswith("Z")
    assert as_project(client, "p1", "DELETE", path)[0] == 404


def test_a_member_sees_the_image_by_id_whatever_its_status_but_may_not_change_it(client):
    image = create_image(client, project="p1")
    path = f"/v2/images/{image['id']}"
    assert as_project(client, "p2", "GET", path)[0] == 404
    share(client, image["id"], "p2")
    assert as_project(client, "p2", "GET", path)[0] == 200  # pending
    answer(client, image["id"], "p2", "rejected")
    assert as_project(client, "p2", "GET", path)[0] == 200
    status, _, _ = call(client, "PATCH", path, [{"op": "replace", "path": "/name", "value": "x"}],
                        project="p2", roles="member", content_type=PATCH)
    assert status == 403
    assert as_project(client, "p2", "DELETE", path)[0] == 403
    assert as_project(client, "p3", "GET", path)[0] == 404
    as_project(client, "p1", "DELETE", f"{path}/members/p2")
    assert as_project(client, "p2", "GET", path)[0] == 404


def test_image_list_shows_accepted_shares_only(client):
    image = create_image(client, project="p1", name="shared")
    share(client, image["id"], "p2")
    assert image["id"] not in listed_ids(client, "p2")  # pending
    answer(client, image["id"], "p2", "accepted")
    assert listed_ids(client, "p2") == [image["id"]]
    answer(client, image["id"], "p2", "rejected")
    assert listed_ids(client, "p2") == []
    assert image["id"] not in listed_ids(client, "p3")


def test_image_list_merges_shares_in_order_across_pages(client):
    older = create_image(client, project="p1", name="older")
    own = create_image(client, project="p2", name="own")
    newer = create_image(client, project="p3", name="newer")
    dropped = create_image(client, project="p1", name="made private later")
    for shared, owner in ((older, "p1"), (newer, "p3"), (dropped, "p1")):
        share(client, shared["id"], "p2", owner=owner)
        answer(client, shared["id"], "p2", "accepted")
    call(client, "PATCH", f"/v2/images/{dropped['id']}",
         [{"op": "replace", "path": "/visibility", "value": "private"}], project="p1",
         roles="member", content_type=PATCH)
    seen, path = [], "/v2/images?limit=1"
    while path:
        page = as_project(client, "p2", "GET", path)[1]
        seen += [i["id"] for i in page["images"]]
        path = page.get("next")
    assert seen == [newer["id"], own["id"], older["id"]]
    assert as_project(client, "p2", "GET", f"/v2/images/{dropped['id']}")[0] == 404


def test_another_projects_private_image_is_404_through_members(client):
    image = create_image(client, project="p1", visibility="private")
    base = f"/v2/images/{image['id']}/members"
    for method, path, body in [("POST", base, {"member": "p2"}), ("GET", base, None),
                               ("GET", f"{base}/p2", None),
                               ("PUT", f"{base}/p2", {"status": "accepted"}),
                               ("DELETE", f"{base}/p2", None)]:
        assert as_project(client, "p2", method, path, body)[0] == 404, (method, path)
    assert member_db.list_for_image(image["id"]) == []


def test_member_schemas_are_glances(client):
    status, member, _ = call(client, "GET", "/v2/schemas/member")
    assert status == 200 and member["name"] == "member"
    assert member["properties"]["status"]["enum"] == ["pending", "accepted", "rejected"]
    assert set(member["properties"]) == {"member_id", "image_id", "created_at", "updated_at",
                                         "status", "schema"}
    status, listing, _ = call(client, "GET", "/v2/schemas/members")
    assert status == 200 and listing["name"] == "members"
    assert listing["properties"]["members"]["items"] == member
