"""JSON-patch parsing and application with Glance's rules."""
from __future__ import annotations

import pytest

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, UnsupportedMediaType
from chalicelib.domain.image import Image, Status
from chalicelib.domain.patch import PATCH_V20, PATCH_V21, apply_patch, parse_patch

MEMBER = RequestContext(project_id="p", user_id="u", roles=frozenset({"member"}))
ADMIN = RequestContext(project_id="p", user_id="u", roles=frozenset({"admin"}))


def _image(**fields) -> Image:
    return Image(id="7a1c9b7e-0000-4000-8000-000000000001", owner="p", created_at="t",
                 updated_at="t", name="n",
                 properties={"a": "1"}, **fields)


def _apply(ops, image=None, ctx=MEMBER):
    return apply_patch(ctx, image or _image(), parse_patch(PATCH_V21, ops), "now")


def test_parse_accepts_both_media_types_and_rejects_others():
    assert parse_patch(PATCH_V20 + "; charset=utf-8", [{"add": "/x", "value": "1"}]) == [
        {"op": "add", "path": "/x", "name": "x", "value": "1"}]
    with pytest.raises(UnsupportedMediaType):
        parse_patch("application/json-patch+json", [])


@pytest.mark.parametrize("body", [
    {}, [1], [{"op": "copy", "path": "/a", "from": "/b"}], [{"op": "add", "path": "/a"}],
    [{"op": "add", "path": "a", "value": "1"}], [{"op": "add", "path": "/a/b", "value": "1"}],
    [{"op": "remove"}], [{"add": "/a", "remove": "/b"}],
])
def test_parse_rejects_malformed_operations(body):
    with pytest.raises(Invalid):
        parse_patch(PATCH_V20 if body and isinstance(body[0], dict) and "add" in body[0]
                    else PATCH_V21, body)


def test_apply_sets_core_fields_and_properties_and_escaped_names():
    image = _apply([{"op": "replace", "path": "/name", "value": "new"},
                    {"op": "add", "path": "/x~1y", "value": "2"},
                    {"op": "add", "path": "/tags", "value": ["t", "t", "u"]},
                    {"op": "remove", "path": "/a"}])
    assert image.name == "new" and image.properties == {"x/y": "2"}
    assert image.tags == ("t", "u") and image.updated_at == "now"


def test_apply_without_changes_returns_the_same_image():
    image = _image()
    assert apply_patch(MEMBER, image, parse_patch(PATCH_V21, [
        {"op": "replace", "path": "/name", "value": "n"}]), "now") is image


@pytest.mark.parametrize("ops,error", [
    ([{"op": "replace", "path": "/size", "value": 1}], Forbidden),
    ([{"op": "add", "path": "/os_glance_x", "value": "1"}], Forbidden),
    ([{"op": "add", "path": "/os_glint_import_error", "value": "1"}], Forbidden),
    ([{"op": "remove", "path": "/min_ram"}], Forbidden),
    ([{"op": "replace", "path": "/visibility", "value": "public"}], Forbidden),
    ([{"op": "replace", "path": "/missing", "value": "1"}], Conflict),
    ([{"op": "remove", "path": "/missing"}], Conflict),
    ([{"op": "add", "path": "/x", "value": 1}], Invalid),
    ([{"op": "replace", "path": "/visibility", "value": "everyone"}], Invalid),
])
def test_apply_refuses_like_glance(ops, error):
    with pytest.raises(error):
        _apply(ops)


def test_admin_may_publicize_and_formats_lock_after_queued():
    assert _apply([{"op": "replace", "path": "/visibility", "value": "public"}],
                  ctx=ADMIN).visibility == "public"
    active = _image(status=Status.ACTIVE)
    with pytest.raises(Forbidden):
        _apply([{"op": "replace", "path": "/disk_format", "value": "raw"}], image=active)
