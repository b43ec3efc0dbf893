"""Metadefs namespaces, resource types and schemas through Chalice's test client over moto."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support import call

NS = "/v2/metadefs/namespaces"


def make_namespace(client, name: str, project: str = "admin", **fields: Any) -> dict[str, Any]:
    """A namespace created by an admin of `project`."""
    status, body, _ = call(client, "POST", NS, {"namespace": name, **fields}, project=project)
    assert status == 201, body
    return body


@pytest.fixture()
def published(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event the services publish, in order."""
    from chalicelib import events
    seen: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(events, "publish", lambda name, detail, client=None: seen.append((name, detail)))
    return seen


def test_create_namespace_returns_201_with_defaults_and_location(client, published):
    status, body, hdrs = call(client, "POST", NS, {"namespace": "OS::Test", "display_name": "T"})
    assert status == 201
    assert body["namespace"] == "OS::Test" and body["visibility"] == "private"
    assert body["protected"] is False and body["owner"] == "admin"
    assert body["self"] == f"{NS}/OS::Test" and body["schema"] == "/v2/schemas/metadefs/namespace"
    assert body["created_at"].endswith("Z") and hdrs["Location"].endswith(f"{NS}/OS::Test")
    assert published == [("metadef_namespace.create", {
        "namespace": "OS::Test", "owner": "admin", "visibility": "private", "protected": False,
        "display_name": "T", "description": None, "created_at": published[0][1]["created_at"],
        "updated_at": published[0][1]["updated_at"]})]


def test_create_namespace_with_contents_shows_them_all(client):
    make_namespace(client, "Full", visibility="public", resource_type_associations=[
        {"name": "OS::Glance::Image", "prefix": "hw_"}],
        properties={"p": {"title": "P", "type": "integer", "minimum": 1}},
        objects=[{"name": "O", "properties": {"q": {"title": "Q", "type": "string"}},
                  "required": ["q"]}],
        tags=[{"name": "t1"}, {"name": "t2"}])
    status, body, _ = call(client, "GET", f"{NS}/Full")
    assert status == 200
    assert body["properties"] == {"p": {"title": "P", "type": "integer", "minimum": 1}}
    assert body["objects"][0]["name"] == "O" and body["objects"][0]["required"] == ["q"]
    assert body["objects"][0]["self"] == f"{NS}/Full/objects/O"
    assert sorted(t["name"] for t in body["tags"]) == ["t1", "t2"]
    assert body["resource_type_associations"][0]["prefix"] == "hw_"
    prefixed = call(client, "GET", f"{NS}/Full?resource_type=OS::Glance::Image")[1]
    assert list(prefixed["properties"]) == ["hw_p"]
    assert list(prefixed["objects"][0]["properties"]) == ["hw_q"]
    assert prefixed["objects"][0]["required"] == ["hw_q"]


def test_create_namespace_errors(client):
    make_namespace(client, "Dup")
    assert call(client, "POST", NS, {"namespace": "Dup"})[0] == 409
    assert call(client, "POST", NS, {"display_name": "no name"})[0] == 400
    assert call(client, "POST", NS, "{bad json")[0] == 400
    assert call(client, "POST", NS, {"namespace": "x" * 81})[0] == 400
    assert call(client, "POST", NS, {"namespace": "V", "visibility": "shared"})[0] == 400
    assert call(client, "POST", NS, {"namespace": "U", "unknown": 1})[0] == 400
    assert call(client, "POST", NS, {"namespace": "R", "created_at": "now"})[0] == 403
    status, body, _ = call(client, "POST", NS, {"namespace": "B", "properties": {
        "p": {"title": "P", "type": "integer", "minimum": 5, "maximum": 1}}})
    assert status == 400 and "minimum 5 is greater than maximum 1" in body["error"]["message"]
    assert call(client, "GET", f"{NS}/B")[0] == 404  # nothing left behind


def test_namespace_writes_need_admin(client):
    status, body, _ = call(client, "POST", NS, {"namespace": "Mine"}, project="p1", roles="member")
    assert status == 403 and "add_metadef_namespace" in body["error"]["message"]
    make_namespace(client, "Shared", visibility="public")
    assert call(client, "PUT", f"{NS}/Shared", {"namespace": "Shared"}, project="p1",
                roles="member")[0] == 403
    assert call(client, "DELETE", f"{NS}/Shared", project="p1", roles="member")[0] == 403
    assert call(client, "POST", f"{NS}/Shared/resource_types", {"name": "OS::X"},
                project="p1", roles="member")[0] == 403


def test_private_namespace_is_invisible_to_other_projects(client):
    make_namespace(client, "P1Private", project="p1", visibility="private")
    make_namespace(client, "P1Public", project="p1", visibility="public")
    for path in ("", "/objects", "/properties", "/tags", "/resource_types", "/tags/x"):
        assert call(client, "GET", f"{NS}/P1Private{path}", project="p2",
                    roles="member")[0] == 404, path
    # Writes, too, see nothing: 404 before any 403.
    assert call(client, "DELETE", f"{NS}/P1Private", project="p2", roles="member")[0] == 404
    assert call(client, "GET", f"{NS}/P1Private", project="p1", roles="member")[0] == 200
    listed = call(client, "GET", NS, project="p2", roles="member")[1]["namespaces"]
    assert [n["namespace"] for n in listed] == ["P1Public"]
    own = call(client, "GET", NS, project="p1", roles="member")[1]["namespaces"]
    assert sorted(n["namespace"] for n in own) == ["P1Private", "P1Public"]


def test_list_pages_across_pages_in_sort_order(client):
    for name in ("c", "a", "e", "b", "d"):
        make_namespace(client, name, visibility="public")
    seen, path = [], f"{NS}?limit=2&sort_key=namespace&sort_dir=asc"
    while path:
        status, page, _ = call(client, "GET", path, project="p9", roles="member")
        assert status == 200 and len(page["namespaces"]) <= 2
        assert page["first"] == f"{NS}?limit=2&sort_key=namespace&sort_dir=asc"
        seen += [n["namespace"] for n in page["namespaces"]]
        path = page.get("next")
    assert seen == ["a", "b", "c", "d", "e"]
    newest_first = call(client, "GET", NS)[1]["namespaces"]
    assert [n["namespace"] for n in newest_first] == ["d", "b", "e", "a", "c"]


def test_list_filters_and_rejects_bad_parameters(client):
    make_namespace(client, "Img", visibility="public",
                   resource_type_associations=[{"name": "OS::Glance::Image"}])
    make_namespace(client, "Vol", resource_type_associations=[{"name": "OS::Cinder::Volume"}])
    make_namespace(client, "None", visibility="public")

    def names(query: str) -> list[str]:
        status, body, _ = call(client, "GET", f"{NS}?{query}")
        assert status == 200, body
        return sorted(n["namespace"] for n in body["namespaces"])

    assert names("visibility=public") == ["Img", "None"]
    assert names("visibility=private") == ["Vol"]
    assert names("resource_types=OS::Glance::Image") == ["Img"]
    assert names("resource_types=OS::Glance::Image,OS::Cinder::Volume") == ["Img", "Vol"]
    listed = call(client, "GET", f"{NS}?resource_types=OS::Cinder::Volume")[1]["namespaces"]
    assert listed[0]["resource_type_associations"][0]["name"] == "OS::Cinder::Volume"
    for bad in ("limit=x", "limit=-1", "sort_dir=up", "sort_key=size", "visibility=shared"):
        assert call(client, "GET", f"{NS}?{bad}")[0] == 400, bad
    assert call(client, "GET", f"{NS}?marker=nope")[0] == 404


def test_update_namespace_resets_unset_fields_and_renames(client, published):
    make_namespace(client, "Old", visibility="public", protected=True, display_name="D",
                   tags=[{"name": "kept"}])
    status, body, _ = call(client, "PUT", f"{NS}/Old", {"namespace": "New", "description": "d"})
    assert status == 200
    assert body["namespace"] == "New" and body["visibility"] == "private"
    assert body["protected"] is False and "display_name" not in body
    assert call(client, "GET", f"{NS}/Old")[0] == 404
    assert call(client, "GET", f"{NS}/New/tags/kept")[0] == 200
    assert published[-1][0] == "metadef_namespace.update"
    assert published[-1][1]["namespace_old"] == "Old"
    make_namespace(client, "Taken")
    assert call(client, "PUT", f"{NS}/New", {"namespace": "Taken"})[0] == 409
    assert call(client, "PUT", f"{NS}/Ghost", {"namespace": "Ghost"})[0] == 404
    assert call(client, "PUT", f"{NS}/New", {"namespace": "New", "self": "x"})[0] == 403


def test_delete_namespace_respects_protection_and_removes_contents(client, published):
    make_namespace(client, "Guarded", protected=True, tags=[{"name": "t"}],
                   resource_type_associations=[{"name": "OS::Glance::Image"}])
    status, body, _ = call(client, "DELETE", f"{NS}/Guarded")
    assert status == 403 and "protected" in body["error"]["message"]
    call(client, "PUT", f"{NS}/Guarded", {"namespace": "Guarded", "protected": False})
    assert call(client, "DELETE", f"{NS}/Guarded")[0] == 204
    assert call(client, "GET", f"{NS}/Guarded")[0] == 404
    assert published[-1][0] == "metadef_namespace.delete"
    assert call(client, "GET", f"{NS}?resource_types=OS::Glance::Image")[1]["namespaces"] == []
    make_namespace(client, "Guarded")
    assert call(client, "GET", f"{NS}/Guarded")[1].get("tags") is None
    assert call(client, "DELETE", f"{NS}/Missing")[0] == 404


def test_resource_types_and_associations(client, published):
    make_namespace(client, "RT", visibility="public")
    status, body, _ = call(client, "POST", f"{NS}/RT/resource_types",
                           {"name": "OS::Nova::Flavor", "prefix": "hw:",
                            "properties_target": "flavor"})
    assert status == 201 and body["prefix"] == "hw:" and body["properties_target"] == "flavor"
    assert published[-1][0] == "metadef_resource_type.create"
    assert call(client, "POST", f"{NS}/RT/resource_types", {"name": "OS::Nova::Flavor"})[0] == 409
    assert call(client, "POST", f"{NS}/RT/resource_types", {"prefix": "x"})[0] == 400
    types = call(client, "GET", "/v2/metadefs/resource_types", project="p1", roles="member")[1]
    assert [t["name"] for t in types["resource_types"]] == ["OS::Nova::Flavor"]
    listed = call(client, "GET", f"{NS}/RT/resource_types", project="p1", roles="member")[1]
    assert [a["name"] for a in listed["resource_type_associations"]] == ["OS::Nova::Flavor"]
    assert call(client, "DELETE", f"{NS}/RT/resource_types/OS::Nova::Flavor", project="p1",
                roles="member")[0] == 403
    assert call(client, "DELETE", f"{NS}/RT/resource_types/OS::Nova::Flavor")[0] == 204
    assert published[-1][0] == "metadef_resource_type.delete"
    assert call(client, "DELETE", f"{NS}/RT/resource_types/OS::Nova::Flavor")[0] == 404
    # The resource type outlives its associations, as in Glance.
    types = call(client, "GET", "/v2/metadefs/resource_types")[1]["resource_types"]
    assert [t["name"] for t in types] == ["OS::Nova::Flavor"]


def test_association_in_protected_namespace_cannot_be_removed(client):
    make_namespace(client, "Locked", protected=True,
                   resource_type_associations=[{"name": "OS::Glance::Image"}])
    assert call(client, "DELETE", f"{NS}/Locked/resource_types/OS::Glance::Image")[0] == 403


@pytest.mark.parametrize("name", ["namespace", "namespaces", "object", "objects", "property",
                                  "properties", "resource_type", "resource_types", "tag", "tags"])
def test_schemas_are_served(client, name):
    import jsonschema
    status, body, _ = call(client, "GET", f"/v2/schemas/metadefs/{name}", project="p1",
                           roles="member")
    assert status == 200 and body["properties"]
    jsonschema.Draft4Validator.check_schema(body)


def test_rendered_namespace_validates_against_its_schema(client):
    import jsonschema
    doc = make_namespace(client, "Valid", properties={"p": {"title": "P", "type": "string"}},
                         objects=[{"name": "o"}], tags=[{"name": "t"}],
                         resource_type_associations=[{"name": "OS::Glance::Image"}])
    jsonschema.validate(doc, call(client, "GET", "/v2/schemas/metadefs/namespace")[1])
    listing = call(client, "GET", NS)[1]
    jsonschema.validate(listing, call(client, "GET", "/v2/schemas/metadefs/namespaces")[1])
    assert call(client, "GET", "/v2/schemas/metadefs/nothing")[0] == 404


def test_update_accepts_the_namespace_as_shown_and_ignores_its_contents(client):
    make_namespace(client, "RoundTrip", objects=[{"name": "o"}], tags=[{"name": "t"}],
                   properties={"p": {"title": "P", "type": "string"}},
                   resource_type_associations=[{"name": "OS::Glance::Image"}])
    shown = call(client, "GET", f"{NS}/RoundTrip")[1]
    body = {k: v for k, v in shown.items() if k not in ("self", "schema", "created_at",
                                                         "updated_at")}
    status, updated, _ = call(client, "PUT", f"{NS}/RoundTrip", {**body, "protected": True,
                                                                 "objects": [{"name": "new"}]})
    assert status == 200 and updated["protected"] is True
    after = call(client, "GET", f"{NS}/RoundTrip")[1]
    assert [o["name"] for o in after["objects"]] == ["o"]
