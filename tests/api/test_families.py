"""Image families and deprecation through Chalice's test client over in-process moto: a
family resolves to its newest active, not deprecated image the caller can see; deprecation by
owner or admin is shown, skipped by resolution and published."""
from __future__ import annotations

from chalicelib.db import image_families
from tests.api.test_actions import active_image
from tests.bench.dynamodb_reads import install
from tests.support import PATCH, call, create_image

FAMILY = "debian-12"


def latest(client, family: str = FAMILY, project: str = "p1", roles: str = "member"):
    status, body, _ = call(client, "GET", f"/v2/images?family={family}&latest=true",
                           project=project, roles=roles)
    assert status == 200, body
    return [image["id"] for image in body["images"]]


def deprecate(client, image_id: str, body=None, project: str = "p1", roles: str = "member"):
    return call(client, "POST", f"/v2/images/{image_id}/actions/deprecate", body,
                project=project, roles=roles)


def test_latest_is_the_newest_active_image_not_deprecated(client, published):
    old, mid, new = (active_image(client, os_glint_family=FAMILY) for _ in range(3))
    create_image(client, project="p1", os_glint_family=FAMILY)  # queued: never resolved
    active_image(client, os_glint_family="other")
    assert latest(client) == [new["id"]]
    status, body, _ = deprecate(client, new["id"], {"replacement_id": mid["id"]})
    assert status == 200, body
    assert body["os_glint_replacement_id"] == mid["id"] and body["os_glint_deprecated_at"]
    assert published[-1][0] == "image.deprecate"
    assert published[-1][1]["replacement_id"] == mid["id"]
    assert latest(client) == [mid["id"]]
    # Listings show the deprecation; the family's images are listed by property filter.
    status, listed, _ = call(client, "GET", f"/v2/images?os_glint_family={FAMILY}",
                             project="p1", roles="member")
    shown = {image["id"]: image for image in listed["images"]}
    assert shown[new["id"]]["os_glint_deprecated_at"] == body["os_glint_deprecated_at"]
    assert "os_glint_deprecated_at" not in shown[old["id"]]
    assert deprecate(client, mid["id"])[0] == 200
    assert latest(client) == [old["id"]]
    assert latest(client, family="none-such") == []


def _share(client, image_id: str, status: str | None = None) -> None:
    """Share p2's image with p1, or set p1's answer to the share."""
    if status is None:
        answer = call(client, "POST", f"/v2/images/{image_id}/members", {"member": "p1"},
                      project="p2", roles="member")
    else:
        answer = call(client, "PUT", f"/v2/images/{image_id}/members/p1", {"status": status},
                      project="p1", roles="member")
    assert answer[0] == 200, answer


def test_a_family_resolves_only_what_the_caller_s_default_list_shows(client):
    public = active_image(client, project="admin", os_glint_family=FAMILY, visibility="public")
    community = active_image(client, project="p2", os_glint_family=FAMILY,
                             visibility="community")
    shared = active_image(client, project="p2", os_glint_family=FAMILY, visibility="shared")
    private = active_image(client, project="p2", os_glint_family=FAMILY, visibility="private")
    assert latest(client, project="p2") == [private["id"]]
    # Neither another project's community image nor a share p1 has not accepted captures
    # p1's family (Glance keeps both out of the default list for that reason).
    assert latest(client, project="p1") == [public["id"]]
    _share(client, shared["id"])
    assert latest(client, project="p1") == [public["id"]]
    _share(client, shared["id"], "rejected")
    assert latest(client, project="p1") == [public["id"]]
    _share(client, shared["id"], "accepted")
    assert latest(client, project="p1") == [shared["id"]]
    assert latest(client, project="p3") == [public["id"]]
    assert latest(client, project="admin", roles="admin") == [private["id"]]
    for image in (private, shared):  # the owner's own community image resolves for it
        assert deprecate(client, image["id"], project="p2")[0] == 200
    assert latest(client, project="p2") == [community["id"]]


def test_resolution_reads_one_index_page_and_the_chosen_image(client, monkeypatch):
    for _ in range(3):
        active_image(client, os_glint_family=FAMILY)
    newest = active_image(client, os_glint_family=FAMILY)
    reads = install(monkeypatch)
    with reads.measure() as cost:
        assert latest(client) == [newest["id"]]
    assert dict(cost.calls) == {"Query": 1, "GetItem": 1}, cost.calls
    # Entries the caller cannot list cost index reads only, never image reads.
    for _ in range(image_families.PAGE_SIZE):
        active_image(client, project="p2", os_glint_family=FAMILY, visibility="private")
    with reads.measure() as cost:
        assert latest(client) == [newest["id"]]
    assert dict(cost.calls) == {"Query": 2, "GetItem": 1}, cost.calls


def test_future_deprecation_date_keeps_the_image_resolvable_until_then(client):
    image = active_image(client, os_glint_family=FAMILY)
    status, body, _ = deprecate(client, image["id"], {"deprecated_at": "2999-01-01T00:00:00Z"})
    assert status == 200 and body["os_glint_deprecated_at"] == "2999-01-01T00:00:00Z"
    assert latest(client) == [image["id"]]


def test_deprecating_again_replaces_the_date_and_the_replacement(client):
    image, replacement = active_image(client), active_image(client)
    first = deprecate(client, image["id"], {"replacement_id": replacement["id"],
                                            "deprecated_at": "2999-01-01T00:00:00Z"})[1]
    assert first["os_glint_replacement_id"] == replacement["id"]
    status, again, _ = deprecate(client, image["id"], {"deprecated_at": "2020-01-01T00:00:00Z"})
    assert status == 200 and again["os_glint_deprecated_at"] == "2020-01-01T00:00:00Z"
    assert "os_glint_replacement_id" not in again


def test_only_the_owner_or_an_admin_deprecates(client):
    image = active_image(client, os_glint_family=FAMILY, visibility="community")
    assert deprecate(client, image["id"], project="p2")[0] == 403
    hidden = active_image(client, project="p2", visibility="private")
    assert deprecate(client, hidden["id"])[0] == 404
    assert deprecate(client, image["id"], project="admin", roles="admin")[0] == 200


def test_bad_deprecations_are_400_or_404(client):
    image = active_image(client)
    hidden = active_image(client, project="p2", visibility="private")
    for body in ({"deprecated_at": "tomorrow"}, {"replacement_id": image["id"]},
                 {"replacement_id": 5}, {"reason": "old"}):
        assert deprecate(client, image["id"], body)[0] == 400, body
    assert deprecate(client, image["id"], {"replacement_id": hidden["id"]})[0] == 404
    assert "os_glint_deprecated_at" not in call(client, "GET", f"/v2/images/{image['id']}",
                                                project="p1", roles="member")[1]


def test_family_is_settable_but_deprecation_only_through_the_action(client):
    image = active_image(client, os_glint_family="a")
    status, body, _ = call(client, "PATCH", f"/v2/images/{image['id']}", [
        {"op": "replace", "path": "/os_glint_family", "value": FAMILY}], project="p1",
        roles="member", content_type=PATCH)
    assert status == 200 and body["os_glint_family"] == FAMILY
    assert latest(client) == [image["id"]]
    status, _, _ = call(client, "PATCH", f"/v2/images/{image['id']}", [
        {"op": "add", "path": "/os_glint_deprecated_at", "value": "2020-01-01T00:00:00Z"}],
        project="p1", roles="member", content_type=PATCH)
    assert status == 403


def test_resolution_needs_exactly_family_and_latest(client):
    for query in ("family=f", "family=f&latest=false", "family=f&latest=true&limit=2",
                  "family=&latest=true"):
        assert call(client, "GET", f"/v2/images?{query}", project="p1",
                    roles="member")[0] == 400, query


def test_index_holds_only_resolvable_images_newest_first(client):
    old, new = (active_image(client, os_glint_family=FAMILY) for _ in range(2))
    gone = active_image(client, os_glint_family=FAMILY)
    deprecate(client, gone["id"])
    create_image(client, project="p1", os_glint_family=FAMILY)
    assert [c.id for c in image_families.newest_first(FAMILY)] == [new["id"], old["id"]]
