"""The policy language, Glance's defaults as data, and override files."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain import policy, policy_rules
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.image import Image
from chalicelib.domain.policy_rules import PolicyConfigError, parse

DEFAULTS = policy_rules.defaults()


def _ctx(project: str, *roles: str) -> RequestContext:
    return RequestContext(project_id=project, user_id="u", roles=frozenset(roles))


def _image(visibility: str = "private", owner: str = "p1") -> Image:
    return Image(id="i", owner=owner, created_at="t", updated_at="t", visibility=visibility)


def _allows(check: str, creds: dict, target: dict, rules: dict | None = None) -> bool:
    parsed = {"it": parse(check), **{k: parse(v) for k, v in (rules or {}).items()}}
    return policy_rules.Policy(tuple(parsed.items())).allows("it", creds, target)


@pytest.mark.parametrize("check,expected", [
    ("", True), ("@", True), ("!", False), ("role:member", True), ("role:Member", True),
    ("role:admin", False), ("role:reader", True),  # member implies reader
    ("project_id:%(owner)s", True), ("project_id:%(missing)s", False),
    ("project_id:p2", False), ("'public':%(visibility)s", True),
    ("\"shared\":%(visibility)s", False), ("not role:admin", True),
    ("role:admin or role:member and project_id:%(owner)s", True),
    ("(role:admin or role:member) and not project_id:%(owner)s", False),
    ("((role:member))", True), ("rule:other", False),
])
def test_checks_evaluate_like_oslo_policy(check, expected):
    creds = {"roles": {"member"}, "project_id": "p1", "user_id": "u"}
    target = {"owner": "p1", "visibility": "public"}
    assert _allows(check, creds, target, {"other": "!"}) is expected


@pytest.mark.parametrize("bad", ["role:", "and role:x", "role:x or", "(role:x", "role:x)",
                                 "nocolon", "role:x role:y"])
def test_malformed_checks_do_not_parse(bad):
    with pytest.raises(ValueError):
        parse(bad)


def test_admin_implies_member_implies_reader():
    assert policy_rules.effective_roles(["Admin"]) == {"admin", "member", "reader"}
    assert policy_rules.effective_roles(["reader"]) == {"reader"}


@pytest.mark.parametrize("rule,roles,project,expected", [
    ("add_image", ("member",), "p1", True), ("add_image", ("reader",), "p1", False),
    ("add_image", ("member",), "p2", False), ("add_image", ("admin",), "ops", True),
    ("get_images", ("reader",), "p1", True), ("get_images", (), "p1", False),
    ("modify_image", ("reader",), "p1", False), ("modify_image", ("member",), "p2", False),
    ("publicize_image", ("member",), "p1", False), ("publicize_image", ("admin",), "p1", True),
    ("communitize_image", ("member",), "p1", True), ("copy_image", ("member",), "p1", False),
    ("deactivate", ("member",), "p1", True), ("upload_image", ("reader",), "p1", False),
    ("tasks_api_access", ("member",), "p1", False),
])
def test_glance_defaults(rule, roles, project, expected):
    creds = {"roles": set(roles), "project_id": project}
    assert DEFAULTS.allows(rule, creds, {"project_id": "p1", "owner": "p1"}) is expected


def test_reader_may_read_but_not_write():
    reader, image = _ctx("p1", "reader"), _image()
    assert policy.can_see(reader, image)
    for rule in ("modify_image", "delete_image", "upload_image", "deactivate", "add_member",
                 "download_image"):
        with pytest.raises(Forbidden):
            policy.require(reader, rule, image)


def test_no_role_sees_nothing_and_tenancy_still_applies():
    assert not policy.can_see(_ctx("p1"), _image())
    assert not policy.can_see(_ctx("p2", "member"), _image("shared"))
    assert policy.can_see(_ctx("p2", "reader"), _image("shared"), "pending")
    assert policy.can_see(_ctx("p2", "reader"), _image("community"))


def test_override_file_replaces_single_rules(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"publicize_image": "rule:admin_or_project_member",
                                "deactivate": "role:admin"}))
    rules = policy_rules.load(str(path))
    member = {"roles": {"member"}, "project_id": "p1"}
    target = {"project_id": "p1", "owner": "p1"}
    assert rules.allows("publicize_image", member, target)
    assert not rules.allows("deactivate", member, target)
    assert rules.allows("modify_image", member, target)  # untouched defaults stay


@pytest.mark.parametrize("content,problem", [
    ("{not json", "Cannot read"), ("[]", "JSON object"), ('{"a": 1}', "JSON object"),
    ('{"get_image": "role:"}', "get_image"), ('{"get_image": "rule:nope"}', "unknown rule"),
    ('{"a": "rule:b", "b": "rule:a"}', "loop"),
])
def test_bad_policy_files_refuse_to_load(tmp_path, content, problem):
    path = tmp_path / "policy.json"
    path.write_text(content)
    with pytest.raises(PolicyConfigError, match=problem):
        policy_rules.load(str(path))


def test_missing_policy_file_refuses_to_load(tmp_path):
    with pytest.raises(PolicyConfigError, match="Cannot read"):
        policy_rules.load(str(tmp_path / "absent.json"))


def test_settings_fail_to_load_with_a_bad_policy_file(tmp_path, monkeypatch):
    from chalicelib.config import get_settings
    path = tmp_path / "policy.json"
    path.write_text('{"get_image": "role:"}')
    monkeypatch.setenv("GLINT_POLICY_FILE", str(path))
    get_settings.cache_clear()
    try:
        with pytest.raises(PolicyConfigError):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
