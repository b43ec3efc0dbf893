"""Deactivate and reactivate through Chalice's test client over in-process moto."""
from __future__ import annotations

from chalicelib.db import images as image_db
from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.image import Status, transition, utcnow
from tests.support import call, create_image


def active_image(client, project: str = "p1", **fields) -> dict:
    image = create_image(client, project=project, **fields)
    image_db.save(transition(image_db.get(image["id"]), Status.ACTIVE, utcnow()))
    return image


def action(client, image_id: str, name: str, project: str = "p1", roles: str = "member"):
    return call(client, "POST", f"/v2/images/{image_id}/actions/{name}", project=project,
                roles=roles)


def test_deactivate_then_reactivate(client, published):
    image = active_image(client)
    status, body, _ = action(client, image["id"], "deactivate")
    assert status == 204 and body is None
    assert image_db.get(image["id"]).status == "deactivated"
    assert published[-1][0] == "image.deactivate"
    assert published[-1][1]["image"]["status"] == "deactivated"
    assert call(client, "GET", f"/v2/images/{image['id']}/file", project="p1",
                roles="member")[0] == 403
    assert action(client, image["id"], "reactivate")[0] == 204
    assert image_db.get(image["id"]).status == "active"
    assert published[-1][0] == "image.reactivate"


def test_repeating_an_action_is_204_and_writes_nothing(client, published):
    image = active_image(client)
    assert action(client, image["id"], "reactivate")[0] == 204
    action(client, image["id"], "deactivate")
    stored = image_db.get(image["id"])
    events = len(published)
    assert action(client, image["id"], "deactivate")[0] == 204
    assert image_db.get(image["id"]).version == stored.version
    assert len(published) == events


def test_actions_on_an_image_in_another_status_are_403(client):
    image = create_image(client, project="p1")  # queued
    for name in ("deactivate", "reactivate"):
        status, body, _ = action(client, image["id"], name)
        assert status == 403 and "Not allowed to" in body["error"]["message"]
    assert image_db.get(image["id"]).status == "queued"


def test_actions_are_for_the_owner_or_an_admin(client):
    public = active_image(client, project="admin", visibility="public")
    assert action(client, public["id"], "deactivate", project="p2")[0] == 403
    private = active_image(client, visibility="private")
    assert action(client, private["id"], "deactivate", project="p2")[0] == 404
    assert image_db.get(private["id"]).status == "active"
    assert action(client, private["id"], "deactivate", project="ops", roles="admin")[0] == 204
    assert image_db.get(private["id"]).status == "deactivated"


def test_a_member_may_not_deactivate_a_shared_image(client):
    image = active_image(client)
    call(client, "POST", f"/v2/images/{image['id']}/members", {"member": "p2"},
         project="p1", roles="member")
    assert action(client, image["id"], "deactivate", project="p2")[0] == 403
    assert action(client, image["id"], "deactivate", project="p3")[0] == 404


def test_concurrent_change_is_409(client, monkeypatch):
    image = active_image(client)

    def stale(image):
        raise StaleWrite("changed by another request")
    monkeypatch.setattr(image_db, "save", stale)
    assert action(client, image["id"], "deactivate")[0] == 409
    assert action(client, "00000000-0000-0000-0000-000000000000", "deactivate")[0] == 404
