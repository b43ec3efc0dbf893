"""Project B against project A's image: every image route x every visibility gives exactly
the expected code, and B's lists never show what B may not see.

The route list comes from the app itself, so a new image route without a row here fails
`test_every_image_route_has_a_row`."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support import PATCH, call, create_image

OWNER, OTHER = "pa", "pb"
VISIBILITIES = ("private", "shared-not-member", "shared-pending", "shared-accepted",
                "community", "public")
HIDDEN = ("private", "shared-not-member")
SHARED = ("shared-pending", "shared-accepted")
IMAGE_PREFIX = "/v2/images/{image_id}"


def _codes(shared: int, other: int) -> dict[str, int]:
    """A visible image's codes: as a member of a shared image, and on a community/public one."""
    return {**{v: shared for v in SHARED}, "community": other, "public": other}


def _all(code: int) -> dict[str, int]:
    return _codes(code, code)


# (path, method) -> (body, content type, codes for the visible visibilities). Every hidden
# visibility answers 404 on every route: the image does not exist for B.
ROUTES: dict[tuple[str, str], tuple[Any, str, dict[str, int]]] = {
    ("/v2/images/{image_id}", "GET"): (None, "application/json", _all(200)),
    ("/v2/images/{image_id}", "PATCH"): (
        [{"op": "replace", "path": "/name", "value": "mine"}], PATCH, _all(403)),
    ("/v2/images/{image_id}", "DELETE"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/file", "GET"): (None, "application/json", _all(204)),
    ("/v2/images/{image_id}/file", "PUT"): (b"data", "application/octet-stream", _all(403)),
    # Locations (2.17): adding is the owner's (or the service's); listing is the service's.
    ("/v2/images/{image_id}/locations", "POST"): (
        {"url": "http://127.0.0.1:8765/x.raw"}, "application/json", _all(403)),
    ("/v2/images/{image_id}/locations", "GET"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/stage", "PUT"): (b"data", "application/octet-stream", _all(403)),
    ("/v2/images/{image_id}/import", "POST"): (
        {"method": {"name": "glance-direct"}}, "application/json", _all(403)),
    ("/v2/images/{image_id}/uploads", "POST"): ({"size": 4}, "application/json", _all(403)),
    ("/v2/images/{image_id}/uploads/{upload_id}", "GET"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/uploads/{upload_id}", "DELETE"): (
        None, "application/json", _all(403)),
    ("/v2/images/{image_id}/uploads/{upload_id}/complete", "POST"): (
        {"parts": [{"part_number": 1, "etag": "e"}]}, "application/json", _all(403)),
    ("/v2/images/{image_id}/uploads/{upload_id}/copies", "POST"): (
        {"parts": [1]}, "application/json", _all(403)),
    ("/v2/images/{image_id}/blocks", "GET"): (None, "application/json", _all(409)),
    ("/v2/images/{image_id}/actions/deprecate", "POST"): ({}, "application/json", _all(403)),
    ("/v2/images/{image_id}/actions/deactivate", "POST"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/actions/reactivate", "POST"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/actions/restore", "POST"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/tags/{tag}", "PUT"): (None, "application/json", _all(403)),
    ("/v2/images/{image_id}/tags/{tag}", "DELETE"): (None, "application/json", _all(403)),
    # Members: a member sees (only) its own record and answers the share itself; nobody but
    # the owner adds or removes; only shared images have members (403, 404 on show).
    ("/v2/images/{image_id}/members", "POST"): ({"member": "pc"}, "application/json",
                                               _all(403)),
    ("/v2/images/{image_id}/members", "GET"): (None, "application/json", _codes(200, 403)),
    ("/v2/images/{image_id}/members/{member_id}", "GET"): (
        None, "application/json", _codes(200, 404)),
    ("/v2/images/{image_id}/members/{member_id}", "PUT"): (
        {"status": "accepted"}, "application/json", _codes(200, 403)),
    ("/v2/images/{image_id}/members/{member_id}", "DELETE"): (
        None, "application/json", _all(403)),
    # Glance answers 404 when get_image_tasks refuses (services.tasks.image_tasks).
    ("/v2/images/{image_id}/tasks", "GET"): (None, "application/json", _all(404)),
}


def _image_routes() -> set[tuple[str, str]]:
    from app import app
    from chalicelib.api.fallback import VIEW_PREFIX
    return {(path, method) for path, methods in app.routes.items()
            if path.startswith(IMAGE_PREFIX) for method, entry in methods.items()
            if not entry.view_name.startswith(VIEW_PREFIX)}  # Glance's 405s, not routes


def test_every_image_route_has_a_row():
    assert _image_routes() == set(ROUTES)


def _setup(client, visibility: str) -> str:
    """A's queued image in the given visibility, with B's membership as named."""
    if visibility == "public":  # only admins publicize
        image = create_image(client, owner=OWNER, visibility="public")
    else:
        image = create_image(client, project=OWNER, visibility=visibility.split("-")[0])
    if visibility in SHARED:
        base = f"/v2/images/{image['id']}/members"
        assert call(client, "POST", base, {"member": OTHER}, project=OWNER,
                    roles="member")[0] == 200
        if visibility == "shared-accepted":
            assert call(client, "PUT", f"{base}/{OTHER}", {"status": "accepted"},
                        project=OTHER, roles="member")[0] == 200
    return image["id"]


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_other_project_gets_exactly_the_expected_code(client, visibility):
    wrong = []
    for (path, method), (body, content_type, visible_codes) in sorted(ROUTES.items()):
        image_id = _setup(client, visibility)  # a fresh image per route: no carry-over
        url = path.format(image_id=image_id, member_id=OTHER, tag="t", upload_id="u1")
        status, answer, _ = call(client, method, url, body, project=OTHER, roles="member",
                                 content_type=content_type)
        expected = 404 if visibility in HIDDEN else visible_codes[visibility]
        if status != expected or (visibility in HIDDEN and OWNER in str(answer)):
            wrong.append((method, path, status, expected, answer))
        owner_view = call(client, "GET", f"/v2/images/{image_id}", project=OWNER,
                          roles="member")
        assert owner_view[0] == 200 and owner_view[1]["name"] == "test"  # B changed nothing
    assert not wrong, wrong


LISTS = ("/v2/images", "/v2/images?visibility=all", "/v2/images?visibility=shared",
         "/v2/images?visibility=private", "/v2/images?visibility=community",
         "/v2/images?visibility=public", "/v2/images?member_status=all",
         "/v2/images?visibility=shared&member_status=all",
         "/v2/images?visibility=all&member_status=all", f"/v2/images?owner={OWNER}")
# Which of B's lists show A's image (Glance: default = public + accepted shares).
SHOWN = {
    "shared-pending": {"/v2/images?member_status=all",
                       "/v2/images?visibility=shared&member_status=all",
                       "/v2/images?visibility=all&member_status=all"},
    "shared-accepted": {"/v2/images", "/v2/images?visibility=all",
                        "/v2/images?visibility=shared", "/v2/images?member_status=all",
                        "/v2/images?visibility=shared&member_status=all",
                        "/v2/images?visibility=all&member_status=all",
                        f"/v2/images?owner={OWNER}"},
    "community": {"/v2/images?visibility=all", "/v2/images?visibility=community",
                  "/v2/images?visibility=all&member_status=all"},
    "public": {"/v2/images", "/v2/images?visibility=all", "/v2/images?visibility=public",
               "/v2/images?member_status=all", "/v2/images?visibility=all&member_status=all",
               f"/v2/images?owner={OWNER}"},
}


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_other_projects_lists_show_only_what_it_may_see(client, visibility):
    image_id = _setup(client, visibility)
    for query in LISTS:
        status, body, _ = call(client, "GET", query, project=OTHER, roles="member")
        assert status == 200, (query, body)
        shown = image_id in [i["id"] for i in body["images"]]
        assert shown is (query in SHOWN.get(visibility, set())), (query, visibility)


@pytest.mark.parametrize("visibility", VISIBILITIES)
def test_a_reader_of_project_b_reads_what_b_sees_and_writes_nothing(client, visibility):
    image_id = _setup(client, visibility)
    show = call(client, "GET", f"/v2/images/{image_id}", project=OTHER, roles="reader")[0]
    assert show == (404 if visibility in HIDDEN else 200)
    tag = call(client, "PUT", f"/v2/images/{image_id}/tags/t", project=OTHER, roles="reader")[0]
    assert tag == (404 if visibility in HIDDEN else 403)
