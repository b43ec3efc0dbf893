"""Glance's property-protection files (roles format): parsing, matching, patch and create."""
from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain import create, patch, property_protections
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.image import Image
from chalicelib.domain.property_protections import PropertyProtectionConfigError, parse

# Glance's sample (etc/property-protections-roles.conf.sample) plus '@' and '!' sections.
SAMPLE = """
[^x_owner_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin,member

[^x_public_.*]
create = admin
read = @
update = admin
delete = !

[^x_sealed$]
create = !
read = !
update = !
delete = !

[.*]
create = admin
read = admin
update = admin
delete = admin
"""
RULES = parse(SAMPLE)


def _ctx(*roles: str) -> RequestContext:
    return RequestContext(project_id="p1", user_id="u", roles=frozenset(roles), protections=RULES)


@pytest.mark.parametrize("name,op,roles,expected", [
    ("x_owner_a", "create", ("member",), True), ("x_owner_a", "read", ("reader",), False),
    ("x_owner_a", "delete", ("admin",), True),  # admin is listed
    ("x_public_a", "read", ("reader",), True), ("x_public_a", "read", (), True),
    ("x_public_a", "update", ("member",), False), ("x_public_a", "delete", ("admin",), False),
    ("x_sealed", "read", ("admin",), False), ("x_sealed_not", "read", ("admin",), True),
    ("other", "create", ("member",), False), ("other", "create", ("admin",), True),
    ("x_owner_a", "update", ("Member",), True),
])
def test_first_matching_section_decides(name, op, roles, expected):
    assert RULES.allows(roles, name, op) is expected


def test_a_name_no_section_matches_is_denied():
    rules = parse("[^only$]\ncreate = @\nread = @\nupdate = @\ndelete = @\n")
    assert rules.allows(["admin"], "only", "read")
    assert not rules.allows(["admin"], "other", "read")


@pytest.mark.parametrize("text,problem", [
    ("not ini", "not a valid INI"), ("", "no property sections"),
    ("[(]\ncreate = @\nread = @\nupdate = @\ndelete = @\n", "regular expression"),
    ("[a]\ncreate = @\nread = @\nupdate = @\n", "missing operation"),
    ("[a]\ncreate = @\nread = @\nupdate = @\ndelete = @\ndestroy = @\n", "unknown operation"),
    ("[a]\ncreate = @,!\nread = @\nupdate = @\ndelete = @\n", "mutually exclusive"),
    ("[a]\ncreate = @\nread = @\nupdate = @\ndelete = @\n[a]\ncreate = @\n", "not a valid INI"),
])
def test_bad_files_refuse_to_load(text, problem):
    with pytest.raises(PropertyProtectionConfigError, match=problem):
        parse(text, "protections.conf")


def test_missing_file_refuses_to_load(tmp_path):
    with pytest.raises(PropertyProtectionConfigError, match="Cannot read"):
        property_protections.load(str(tmp_path / "absent.conf"))


def test_create_checks_every_user_property():
    body = {"name": "n", "x_owner_a": "1"}
    assert create.new_image(_ctx("member"), body, "now").properties == {"x_owner_a": "1"}
    with pytest.raises(Forbidden):
        create.new_image(_ctx("member"), {**body, "other": "2"}, "now")
    assert create.new_image(_ctx("admin"), {**body, "other": "2"}, "now").properties["other"]


def _patched(ctx: RequestContext, image: Image, *ops: dict) -> Image:
    return patch.apply_patch(ctx, image, patch.parse_patch(patch.PATCH_V21, list(ops)), "later")


@pytest.mark.parametrize("op,name,roles,allowed", [
    ("add", "x_owner_new", ("member",), True),          # create
    ("add", "x_public_b", ("member",), False),          # present: update, admins only
    ("replace", "x_owner_a", ("member",), True),        # update
    ("replace", "x_public_b", ("admin",), True),
    ("remove", "x_owner_a", ("member",), True),         # delete
    ("remove", "x_public_b", ("admin",), False),        # '!'
    ("add", "x_sealed", ("admin",), False),
    ("replace", "name", ("member",), True),             # core attributes are never protected
])
def test_patch_maps_operations_to_permissions(op, name, roles, allowed):
    image = Image(id="9c3b5f4e-0d5a-4c1e-9a57-3f0a2b1c4d5e", owner="p1", created_at="t",
                  updated_at="t", name="n",
                  properties={"x_owner_a": "1", "x_public_b": "2"})
    operation = {"op": op, "path": f"/{name}", **({} if op == "remove" else {"value": "v"})}
    if allowed:
        assert _patched(_ctx(*roles), image, operation) is not image
    else:
        with pytest.raises(Forbidden):
            _patched(_ctx(*roles), image, operation)


def test_without_a_file_nothing_is_protected():
    ctx = replace(_ctx("member"), protections=None)
    assert create.new_image(ctx, {"other": "1"}, "now").properties == {"other": "1"}
    assert property_protections.unreadable(None, ["member"], ["other"]) == frozenset()
