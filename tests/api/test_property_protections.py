"""Property protections through the API, per role and operation, from a file the test writes."""
from __future__ import annotations

import pytest

from tests.support import PATCH, call

PROTECTIONS = """
[^x_team_.*]
create = member
read = reader
update = member
delete = admin

[^x_ops_.*]
create = admin
read = admin
update = admin
delete = admin

[^x_open$]
create = @
read = @
update = @
delete = !
"""


@pytest.fixture()
def protected(glint_env, tmp_path):
    path = tmp_path / "property-protections.conf"
    path.write_text(PROTECTIONS)
    glint_env(GLINT_PROPERTY_PROTECTION_FILE=str(path))


def _create(client, roles: str, **properties: str):
    body = {"name": "p", "disk_format": "raw", "container_format": "bare", **properties}
    return call(client, "POST", "/v2/images", body, project="p1", roles=roles)


def _patch(client, image_id: str, roles: str, *ops: dict):
    return call(client, "PATCH", f"/v2/images/{image_id}", list(ops), project="p1",
                roles=roles, content_type=PATCH)


@pytest.mark.parametrize("roles,properties,status", [
    ("member", {"x_team_a": "1"}, 201), ("reader", {"x_team_a": "1"}, 403),
    ("member", {"x_ops_a": "1"}, 403), ("admin", {"x_ops_a": "1"}, 201),
    ("member", {"x_open": "1"}, 201), ("member", {"unmatched": "1"}, 403),
])
def test_create_needs_create_permission(client, protected, roles, properties, status):
    assert _create(client, roles, **properties)[0] == status


def test_reads_hide_what_the_caller_may_not_read(client, protected):
    status, image, _ = _create(client, "admin", x_team_a="1", x_ops_a="2", x_open="3")
    assert status == 201 and image["x_ops_a"] == "2"
    for path in (f"/v2/images/{image['id']}", "/v2/images"):
        body = call(client, "GET", path, project="p1", roles="member")[1]
        shown = body if "id" in body else next(i for i in body["images"] if i["id"] == image["id"])
        assert shown["x_team_a"] == "1" and shown["x_open"] == "3" and "x_ops_a" not in shown
    updated = _patch(client, image["id"], "member",
                     {"op": "replace", "path": "/x_team_a", "value": "9"})
    assert updated[0] == 200 and "x_ops_a" not in updated[1]
    # The hidden property is still there for those who may read it.
    assert call(client, "GET", f"/v2/images/{image['id']}", project="p1",
                roles="admin")[1]["x_ops_a"] == "2"


@pytest.mark.parametrize("roles,op,name,status", [
    ("member", "add", "x_team_new", 200),        # create
    ("member", "replace", "x_team_a", 200),      # update
    ("member", "remove", "x_team_a", 403),       # delete: admins only
    ("admin", "remove", "x_team_a", 200),
    ("member", "add", "x_ops_a", 403),           # present: update, admins only
    ("member", "remove", "x_open", 403),         # '!': nobody
    ("admin", "remove", "x_open", 403),
    ("member", "add", "unmatched", 403),         # no section: denied
    ("member", "replace", "name", 200),          # core attributes are not protected
])
def test_patch_needs_the_operations_permission(client, protected, roles, op, name, status):
    image = _create(client, "admin", x_team_a="1", x_ops_a="2", x_open="3")[1]
    operation = {"op": op, "path": f"/{name}", **({} if op == "remove" else {"value": "v"})}
    assert _patch(client, image["id"], roles, operation)[0] == status
