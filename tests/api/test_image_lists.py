"""GET /v2/images: Glance's filters, sort orders, visibility modes and pagination."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.db import images as image_db
from tests.support import call, create_image

MEMBER = {"project": "p1", "roles": "member"}


def _ids(client, query="", **who):
    """Every id the list returns, following `next` links, with the page size in the query."""
    ids, path = [], f"/v2/images?{query}"
    while path:
        status, page, _ = call(client, "GET", path, **(who or MEMBER))
        assert status == 200, page
        ids += [i["id"] for i in page["images"]]
        path = page.get("next")
    return ids


def _set(image_id, **fields):
    image_db.save(replace(image_db.get(image_id), **fields))


def test_filters_on_core_fields_properties_and_in_lists(client):
    a = create_image(client, **MEMBER, name="alpha", os_distro="ubuntu")["id"]
    b = create_image(client, **MEMBER, name="beta", disk_format="qcow2", os_distro="fedora")["id"]
    c = create_image(client, **MEMBER, name="gamma", protected=True)["id"]
    assert _ids(client, "name=alpha") == [a]
    assert _ids(client, "disk_format=qcow2") == [b]
    assert _ids(client, "os_distro=ubuntu") == [a]
    assert set(_ids(client, "name=in:alpha,gamma")) == {a, c}
    assert _ids(client, "protected=true") == [c]
    assert set(_ids(client, "status=queued")) == {a, b, c}
    assert _ids(client, "status=active") == []


def test_tags_must_all_match(client):
    both = create_image(client, **MEMBER, tags=["x", "y"])["id"]
    create_image(client, **MEMBER, tags=["x"])
    assert _ids(client, "tag=x&tag=y") == [both]


def test_size_and_time_ranges(client):
    small = create_image(client, **MEMBER)["id"]
    large = create_image(client, **MEMBER)["id"]
    _set(small, size=10)
    _set(large, size=1000)
    assert _ids(client, "size_min=100") == [large]
    assert _ids(client, "size_max=100") == [small]
    created = image_db.get(small).created_at.split(".")[0] + "Z"
    assert small in _ids(client, f"created_at=gte:{created}")
    assert _ids(client, "created_at=lt:2000-01-01T00:00:00Z") == []


def test_hidden_images_only_when_asked(client):
    shown = create_image(client, **MEMBER)["id"]
    hidden = create_image(client, **MEMBER, os_hidden=True)["id"]
    assert _ids(client) == [shown]
    assert _ids(client, "os_hidden=true") == [hidden]


def test_sort_orders_and_pagination_keep_the_query(client):
    names = ["c", "a", "d", "b", "e"]
    ids = {n: create_image(client, **MEMBER, name=n)["id"] for n in names}
    by_name = [ids[n] for n in sorted(names)]
    assert _ids(client, "sort_key=name&sort_dir=asc&limit=2") == by_name
    assert _ids(client, "sort=name:desc&limit=2") == list(reversed(by_name))
    assert _ids(client, "limit=2") == [ids[n] for n in reversed(names)]
    assert _ids(client, "sort_key=created_at&sort_dir=asc&limit=3") == [ids[n] for n in names]
    status, page, _ = call(client, "GET", "/v2/images?sort_key=name&sort_dir=asc&limit=2"
                           "&name=in:a,b,c", **MEMBER)
    assert "sort_key=name" in page["next"] and "name=in%3Aa%2Cb%2Cc" in page["next"]


def test_bad_list_parameters_are_400(client):
    for query in ("sort_key=bogus", "sort_dir=sideways", "sort=name:asc&sort_key=name",
                  "visibility=everyone", "member_status=maybe", "os_hidden=perhaps",
                  "size_min=big", "created_at=gt:yesterday", "limit=x",
                  "sort_key=name&sort_key=size&sort_dir=asc&sort_dir=desc&sort_dir=asc"):
        assert call(client, "GET", f"/v2/images?{query}", **MEMBER)[0] == 400, query


def test_visibility_modes(client):
    own_private = create_image(client, **MEMBER, visibility="private")["id"]
    own_shared = create_image(client, **MEMBER, visibility="shared")["id"]
    public = create_image(client, visibility="public")["id"]
    community = create_image(client, project="p2", roles="member", visibility="community")["id"]
    others = create_image(client, project="p2", roles="member", visibility="shared")["id"]
    hidden_private = create_image(client, project="p2", roles="member",
                                  visibility="private")["id"]
    assert call(client, "POST", f"/v2/images/{others}/members", {"member": "p1"},
                project="p2", roles="member")[0] == 200
    assert set(_ids(client)) == {own_private, own_shared, public}
    assert set(_ids(client, "member_status=pending")) == {own_private, own_shared, public, others}
    assert _ids(client, "visibility=public") == [public]
    assert _ids(client, "visibility=community") == [community]
    assert _ids(client, "visibility=private") == [own_private]
    assert set(_ids(client, "visibility=shared&member_status=all")) == {own_shared, others}
    assert set(_ids(client, "visibility=all&member_status=all")) == {
        own_private, own_shared, public, community, others}
    assert hidden_private not in _ids(client, "visibility=all&member_status=all")
    everything = _ids(client, project="admin", roles="admin")
    assert {own_private, hidden_private, community, others} <= set(everything)


def test_deleted_images_leave_every_list(client):
    gone = create_image(client, visibility="public")["id"]
    call(client, "DELETE", f"/v2/images/{gone}")
    assert gone not in _ids(client, "visibility=all") + _ids(client, project="admin",
                                                             roles="admin")
