"""Image tags through Chalice's test client over in-process moto."""
from __future__ import annotations

import pytest

from chalicelib.db import images as image_db
from chalicelib.domain.errors import StaleWrite
from chalicelib.services import tags as tag_service
from tests.support import call, create_image


def tag_path(image_id: str, tag: str) -> str:
    return f"/v2/images/{image_id}/tags/{tag}"


def test_add_tag_is_204_idempotent_and_stored(client, published):
    image = create_image(client, project="p1")
    path = tag_path(image["id"], "ubuntu")
    assert call(client, "PUT", path, project="p1", roles="member")[0] == 204
    stored = image_db.get(image["id"])
    assert stored.tags == ("ubuntu",)
    assert published[-1][0] == "image.update" and published[-1][1]["tag_added"] == "ubuntu"
    assert call(client, "PUT", path, project="p1", roles="member")[0] == 204
    assert image_db.get(image["id"]).version == stored.version  # nothing written
    assert len(published) == 2  # image.create, one image.update
    assert call(client, "GET", f"/v2/images/{image['id']}")[1]["tags"] == ["ubuntu"]


def test_tags_are_percent_decoded_from_the_path(client):
    image = create_image(client, project="p1")
    assert call(client, "PUT", tag_path(image["id"], "two%20words"), project="p1",
                roles="member")[0] == 204
    assert image_db.get(image["id"]).tags == ("two words",)
    assert call(client, "DELETE", tag_path(image["id"], "two%20words"), project="p1",
                roles="member")[0] == 204


def test_tag_longer_than_255_characters_is_400(client):
    image = create_image(client, project="p1")
    assert call(client, "PUT", tag_path(image["id"], "t" * 256))[0] == 400
    assert call(client, "PUT", tag_path(image["id"], "t" * 255))[0] == 204
    assert image_db.get(image["id"]).tags == ("t" * 255,)


def test_tag_past_the_limit_is_413(client, glint_env):
    glint_env(GLINT_IMAGE_TAG_QUOTA="2")
    image = create_image(client, project="p1", tags=["a", "b"])
    assert call(client, "PUT", tag_path(image["id"], "c"))[0] == 413
    assert call(client, "PUT", tag_path(image["id"], "a"))[0] == 204  # already there
    assert image_db.get(image["id"]).tags == ("a", "b")


def test_delete_tag_is_204_then_404(client, published):
    image = create_image(client, project="p1", tags=["a", "b"])
    assert call(client, "DELETE", tag_path(image["id"], "a"))[0] == 204
    assert image_db.get(image["id"]).tags == ("b",)
    assert published[-1][0] == "image.update" and published[-1][1]["tag_removed"] == "a"
    status, body, _ = call(client, "DELETE", tag_path(image["id"], "a"))
    assert status == 404 and body["error"]["code"] == 404


def test_tags_are_for_the_owner_only(client):
    public = create_image(client, visibility="public")
    shared = create_image(client, project="p1")
    call(client, "POST", f"/v2/images/{shared['id']}/members", {"member": "p2"},
         project="p1", roles="member")
    for image in (public, shared):
        for method in ("PUT", "DELETE"):
            status, _, _ = call(client, method, tag_path(image["id"], "x"), project="p2",
                                roles="member")
            assert status == 403, (image["visibility"], method)
    assert image_db.get(shared["id"]).tags == ()


def test_another_projects_private_image_is_404_through_tags(client):
    image = create_image(client, project="p1", visibility="private", tags=["a"])
    for method in ("PUT", "DELETE"):
        assert call(client, method, tag_path(image["id"], "a"), project="p2",
                    roles="member")[0] == 404
    assert call(client, "PUT", tag_path("00000000-0000-0000-0000-000000000000", "a"))[0] == 404
    assert image_db.get(image["id"]).tags == ("a",)


def _lose_races(monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    real_save = image_db.save
    lost = {"n": 0}

    def save(image):
        if lost["n"] < times:
            lost["n"] += 1
            raise StaleWrite("changed by another request")
        return real_save(image)
    monkeypatch.setattr(image_db, "save", save)


def test_tag_change_is_retried_after_a_concurrent_write(client, monkeypatch):
    image = create_image(client, project="p1")
    _lose_races(monkeypatch, tag_service.ATTEMPTS - 1)
    assert call(client, "PUT", tag_path(image["id"], "a"))[0] == 204
    assert image_db.get(image["id"]).tags == ("a",)


def test_tag_change_still_contended_after_every_attempt_is_409(client, monkeypatch):
    image = create_image(client, project="p1")
    _lose_races(monkeypatch, tag_service.ATTEMPTS)
    assert call(client, "PUT", tag_path(image["id"], "a"))[0] == 409
    assert image_db.get(image["id"]).tags == ()
