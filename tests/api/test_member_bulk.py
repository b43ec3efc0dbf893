"""Sharing at scale (Glint extensions): bulk add, paged member lists, project validation."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.auth.projects import KeystoneProjects
from chalicelib.config import get_settings
from chalicelib.db import members as member_db
from chalicelib.domain.errors import ServiceUnavailable
from tests.auth_fixtures import SERVICE_PASSWORD, closed_port_url, keystone  # noqa: F401
from tests.support import call, create_image


def _members(image_id: str) -> str:
    return f"/v2/images/{image_id}/members"


def test_bulk_add_shares_with_many_projects_and_reports_each(client, published):
    image = create_image(client, project="p1")
    call(client, "POST", _members(image["id"]), {"member": "p2"}, project="p1", roles="member")
    status, body, _ = call(client, "POST", _members(image["id"]),
                           {"members": ["p3", "p2", "p4", "p3"]}, project="p1", roles="member")
    assert status == 200
    assert [(r["member_id"], r["code"]) for r in body["results"]] == [
        ("p3", 200), ("p2", 409), ("p4", 200)]
    assert body["results"][0]["member"]["status"] == "pending"
    assert "duplicated" in body["results"][1]["message"]
    assert {m.member_id for m in member_db.list_for_image(image["id"])} == {"p2", "p3", "p4"}
    assert [n for n, _ in published].count("image.member.create") == 3


def test_bulk_add_past_the_quota_is_413_and_adds_nothing(client, glint_env):
    glint_env(GLINT_IMAGE_MEMBER_QUOTA="3")
    image = create_image(client, project="p1")
    status, _, _ = call(client, "POST", _members(image["id"]),
                        {"members": ["a", "b", "c", "d"]}, project="p1", roles="member")
    assert status == 413 and member_db.count(image["id"]) == 0


@pytest.mark.parametrize("body", [{"members": []}, {"members": "p2"}, {"members": [""]},
                                  {"members": ["x" * 256]}, {"members": ["p"] * 1001}])
def test_bulk_add_rejects_bad_bodies(client, body):
    image = create_image(client, project="p1")
    assert call(client, "POST", _members(image["id"]), body, project="p1",
                roles="member")[0] == 400


def test_bulk_add_follows_the_single_add_rules(client):
    image = create_image(client, project="p1")
    private = create_image(client, project="p1", visibility="private")
    body = {"members": ["p3"]}
    assert call(client, "POST", _members(image["id"]), body, project="p2", roles="member")[0] == 404
    assert call(client, "POST", _members(private["id"]), body, project="p1",
                roles="member")[0] == 403


def test_member_lists_page_with_limit_and_marker(client):
    image = create_image(client, project="p1")
    ids = [f"p{n:02d}" for n in range(7)]
    call(client, "POST", _members(image["id"]), {"members": ids}, project="p1", roles="member")
    seen, url = [], _members(image["id"]) + "?limit=3"
    while url:
        status, body, _ = call(client, "GET", url, project="p1", roles="member")
        assert status == 200 and len(body["members"]) <= 3
        seen += [m["member_id"] for m in body["members"]]
        url = body.get("next")
    assert seen == ids
    whole = call(client, "GET", _members(image["id"]), project="p1", roles="member")[1]
    assert [m["member_id"] for m in whole["members"]] == ids and "next" not in whole
    for bad in ("0", "x", "1001"):
        assert call(client, "GET", _members(image["id"]) + f"?limit={bad}", project="p1",
                    roles="member")[0] == 400


def test_a_member_pages_through_its_own_record_only(client):
    image = create_image(client, project="p1")
    call(client, "POST", _members(image["id"]), {"members": ["p2", "p3"]}, project="p1",
         roles="member")
    body = call(client, "GET", _members(image["id"]) + "?limit=1", project="p3",
                roles="member")[1]
    assert [m["member_id"] for m in body["members"]] == ["p3"] and "next" not in body


# --- project validation against Keystone -----------------------------------------------------

def _projects(keystone_url: str) -> KeystoneProjects:
    auth = replace(get_settings().auth, keystone_url=f"{keystone_url}/v3", keystone_username="glint",
                   keystone_password=SERVICE_PASSWORD, timeout_seconds=2.0)
    return KeystoneProjects(KeystoneAuthenticator(auth), 2.0)


def test_keystone_validator_names_unknown_projects(keystone):
    keystone.projects = {"p2", "p3"}
    assert _projects(keystone.url).unknown(["p2", "typo", "p3", "typo"]) == {"typo"}


def test_keystone_validator_renews_a_revoked_service_token(keystone):
    keystone.projects = {"p2"}
    validator = _projects(keystone.url)
    assert validator.unknown(["p2"]) == frozenset()
    keystone.service_tokens.clear()  # Keystone forgot our token
    assert validator.unknown(["p2"]) == frozenset()


def test_keystone_validator_down_is_service_unavailable():
    with pytest.raises(ServiceUnavailable):
        _projects(closed_port_url()).unknown(["p2"])


def test_validation_refuses_typos_through_the_api(client, glint_env, keystone):
    glint_env(GLINT_AUTH="keystone", GLINT_KEYSTONE_URL=f"{keystone.url}/v3",
              GLINT_KEYSTONE_USERNAME="glint", GLINT_KEYSTONE_PASSWORD=SERVICE_PASSWORD,
              GLINT_AUTH_TIMEOUT_SECONDS="2", GLINT_VALIDATE_MEMBER_PROJECTS="true")
    get_settings()
    keystone.add_token("tok", project="p1", roles=("member", "reader"))
    keystone.projects = {"p1", "p2"}
    headers = {"X-Auth-Token": "tok", "Content-Type": "application/json"}
    created = client.http.post("/v2/images", headers=headers, body='{"name": "v"}')
    assert created.status_code == 201
    members = _members(json.loads(created.body)["id"])
    typo = client.http.post(members, headers=headers, body='{"member": "p9"}')
    assert typo.status_code == 400 and b"No such project" in typo.body
    bulk = client.http.post(members, headers=headers, body='{"members": ["p2", "p9"]}')
    results = json.loads(bulk.body)["results"]
    assert [(r["member_id"], r["code"]) for r in results] == [("p2", 200), ("p9", 400)]
