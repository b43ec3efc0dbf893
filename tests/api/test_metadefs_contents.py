"""Objects, properties and tags inside a namespace, through Chalice's test client over moto."""
from __future__ import annotations

from urllib.parse import quote

from tests.api.test_metadefs import NS, make_namespace, published  # noqa: F401 - fixture
from tests.support import call

PROP = {"name": "speed", "title": "Speed", "type": "integer", "minimum": 1, "maximum": 10}


def test_object_lifecycle(client, published):  # noqa: F811
    make_namespace(client, "N", visibility="public")
    body = {"name": "CPU Limits", "description": "d", "required": ["a"],
            "properties": {"a": {"title": "A", "type": "integer"}}}
    status, obj, _ = call(client, "POST", f"{NS}/N/objects", body)
    assert status == 201 and obj["self"] == f"{NS}/N/objects/CPU Limits"
    assert published[-1][0] == "metadef_object.create"
    path = f"{NS}/N/objects/{quote('CPU Limits')}"
    assert call(client, "GET", path, project="p1", roles="member")[1]["required"] == ["a"]
    assert call(client, "POST", f"{NS}/N/objects", body)[0] == 409
    status, renamed, _ = call(client, "PUT", path, {**body, "name": "CPU", "required": []})
    assert status == 200 and renamed["name"] == "CPU" and renamed["created_at"] == obj["created_at"]
    assert published[-1][0] == "metadef_object.update"
    assert call(client, "GET", path)[0] == 404
    assert call(client, "DELETE", f"{NS}/N/objects/CPU")[0] == 204
    assert published[-1][0] == "metadef_object.delete"
    assert call(client, "DELETE", f"{NS}/N/objects/CPU")[0] == 404


def test_object_rejects_invalid_bodies(client):
    make_namespace(client, "N")
    for bad in ({"description": "no name"}, {"name": "o", "required": ["missing"]},
                {"name": "o", "properties": {"p": {"type": "integer"}}},
                {"name": "o", "properties": {"p": {"title": "P", "type": "decimal"}}}):
        status, body, _ = call(client, "POST", f"{NS}/N/objects", bad)
        assert status == 400, (bad, body)
    assert call(client, "POST", f"{NS}/N/objects", {"name": "o", "self": "x"})[0] == 403


def test_object_list_pages_and_sorts(client):
    make_namespace(client, "N")
    for name in ("b", "c", "a"):
        call(client, "POST", f"{NS}/N/objects", {"name": name})
    seen, path = [], f"{NS}/N/objects?limit=2&sort_key=name&sort_dir=asc"
    while path:
        page = call(client, "GET", path)[1]
        seen += [o["name"] for o in page["objects"]]
        path = page.get("next")
    assert seen == ["a", "b", "c"]
    newest = call(client, "GET", f"{NS}/N/objects")[1]["objects"]
    assert [o["name"] for o in newest] == ["a", "c", "b"]
    assert call(client, "GET", f"{NS}/N/objects?sort_key=title")[0] == 400


def test_property_lifecycle_and_resource_type_prefix(client, published):  # noqa: F811
    make_namespace(client, "N", resource_type_associations=[
        {"name": "OS::Glance::Image", "prefix": "hw_"}])
    status, prop, _ = call(client, "POST", f"{NS}/N/properties", PROP)
    assert status == 201 and prop == PROP
    assert published[-1][0] == "metadef_property.create"
    assert call(client, "POST", f"{NS}/N/properties", PROP)[0] == 409
    listed = call(client, "GET", f"{NS}/N/properties")[1]
    assert listed == {"properties": {"speed": {k: v for k, v in PROP.items() if k != "name"}}}
    assert call(client, "GET", f"{NS}/N/properties/speed")[1] == PROP
    assert call(client, "GET", f"{NS}/N/properties/hw_speed?resource_type=OS::Glance::Image")[1] \
        == PROP
    assert call(client, "GET", f"{NS}/N/properties/speed?resource_type=OS::Glance::Image")[0] \
        == 404
    status, updated, _ = call(client, "PUT", f"{NS}/N/properties/speed",
                              {**PROP, "name": "velocity", "readonly": True})
    assert status == 200 and updated["name"] == "velocity" and updated["readonly"] is True
    assert call(client, "GET", f"{NS}/N/properties/speed")[0] == 404
    assert call(client, "DELETE", f"{NS}/N/properties/velocity")[0] == 204
    assert published[-1][0] == "metadef_property.delete"


def test_property_definitions_are_validated_with_reasons(client):
    make_namespace(client, "N")
    cases = {
        "does not match schema": {"name": "p", "title": "P"},
        "'decimal' is not one of": {**PROP, "type": "decimal"},
        "minimum 9 is greater than maximum 2": {**PROP, "minimum": 9, "maximum": 2},
        "minLength 3 is greater than maxLength 1": {"name": "s", "title": "S", "type": "string",
                                                   "minLength": 3, "maxLength": 1},
        "is not a 'regex'": {"name": "s", "title": "S", "type": "string",
                                        "pattern": "([a-z"},
        "enum value 'x' does not fit": {**PROP, "enum": [1, "x"]},
        "default value 11 does not fit": {**PROP, "default": 11},
        "items.enum value 3 does not fit": {"name": "a", "title": "A", "type": "array",
                                            "items": {"type": "string", "enum": ["a", 3]}},
        "Additional properties are not allowed": {**PROP, "frobnicate": True},
    }
    for reason, body in cases.items():
        status, error, _ = call(client, "POST", f"{NS}/N/properties", body)
        assert status == 400 and reason in error["error"]["message"], (reason, error)
    assert call(client, "GET", f"{NS}/N/properties")[1] == {"properties": {}}


def test_tag_lifecycle(client, published):  # noqa: F811
    make_namespace(client, "N", visibility="public")
    status, tag, _ = call(client, "POST", f"{NS}/N/tags/t1")
    assert status == 201 and set(tag) == {"name", "created_at", "updated_at"}
    assert call(client, "POST", f"{NS}/N/tags/t1")[0] == 409
    status, renamed, _ = call(client, "PUT", f"{NS}/N/tags/t1", {"name": "t1-new"})
    assert status == 200 and renamed["name"] == "t1-new"
    assert published[-1][0] == "metadef_tag.update"
    assert call(client, "GET", f"{NS}/N/tags/t1", project="p1", roles="member")[0] == 404
    assert call(client, "GET", f"{NS}/N/tags/t1-new", project="p1", roles="member")[0] == 200
    assert call(client, "PUT", f"{NS}/N/tags/t1-new", {"name": "x"}, project="p1",
                roles="member")[0] == 403
    assert call(client, "DELETE", f"{NS}/N/tags/t1-new")[0] == 204
    assert call(client, "GET", f"{NS}/N/tags/t1-new")[0] == 404


def test_bulk_tags_replace_or_append_all_or_nothing(client):
    make_namespace(client, "N")

    def names() -> list[str]:
        return sorted(t["name"] for t in call(client, "GET", f"{NS}/N/tags")[1]["tags"])

    def post(tags: list[str], append: bool = False) -> int:
        headers_body = {"tags": [{"name": t} for t in tags]}
        if not append:
            return call(client, "POST", f"{NS}/N/tags", headers_body)[0]
        response = client.http.post(f"{NS}/N/tags", headers={
            "Content-Type": "application/json", "X-Openstack-Append": "True"},
            body=__import__("json").dumps(headers_body))
        return response.status_code

    status, body, _ = call(client, "POST", f"{NS}/N/tags", {"tags": [{"name": "a"}, {"name": "b"}]})
    assert status == 201 and body == {"tags": [{"name": "a"}, {"name": "b"}]}
    assert post(["c", "d", "c"]) == 409 and names() == ["a", "b"]
    assert post(["c", "d"]) == 201 and names() == ["c", "d"]
    assert post(["e", "f"], append=True) == 201 and names() == ["c", "d", "e", "f"]
    assert post(["f", "g"], append=True) == 409 and names() == ["c", "d", "e", "f"]
    assert call(client, "POST", f"{NS}/N/tags", {"tags": [{"nom": "x"}]})[0] == 400
    assert call(client, "POST", f"{NS}/N/tags", {"tags": [{"name": "x"}]}, project="p1",
                roles="member")[0] == 404  # private namespace of project admin


def test_delete_all_children_and_protection(client, published):  # noqa: F811
    make_namespace(client, "N", protected=True, tags=[{"name": "t"}], objects=[{"name": "o"}],
                   properties={"p": {"title": "P", "type": "string"}})
    for kind in ("objects", "properties", "tags"):
        assert call(client, "DELETE", f"{NS}/N/{kind}")[0] == 403, kind
    assert call(client, "DELETE", f"{NS}/N/tags/t")[0] == 403
    assert call(client, "DELETE", f"{NS}/N/objects/o")[0] == 403
    assert call(client, "DELETE", f"{NS}/N/properties/p")[0] == 403
    call(client, "PUT", f"{NS}/N", {"namespace": "N", "protected": False})
    for kind in ("objects", "properties", "tags"):
        assert call(client, "DELETE", f"{NS}/N/{kind}", project="p1", roles="member")[0] == 404
        assert call(client, "DELETE", f"{NS}/N/{kind}")[0] == 204, kind
        assert published[-1] == (f"metadef_namespace.delete_{kind}", {"namespace": "N"})
    shown = call(client, "GET", f"{NS}/N")[1]
    assert not {"objects", "properties", "tags"} & set(shown)


def test_children_of_missing_namespace_are_404(client):
    for method, path, body in (("GET", "/objects", None), ("POST", "/objects", {"name": "o"}),
                               ("POST", "/properties", PROP), ("POST", "/tags/t", None),
                               ("GET", "/properties/p", None), ("DELETE", "/tags", None)):
        assert call(client, method, f"{NS}/Nope{path}", body)[0] == 404, (method, path)
