"""Image members (sharing): add, list, show, accept or reject, remove; and their schemas."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import status_for
from chalicelib.api.render import with_query
from chalicelib.api.routing import json_body, json_response, no_content, query_params, route
from chalicelib.domain import members
from chalicelib.domain.context import RequestContext
from chalicelib.domain.members import Member
from chalicelib.services import members as service
from chalicelib.services.members import Added

bp = Blueprint(__name__)
MEMBERS = "/v2/images/{image_id}/members"
MEMBER = MEMBERS + "/{member_id}"


@route(bp, MEMBERS, methods=("POST",))
def add_member(ctx: RequestContext, image_id: str) -> Response:
    """200 (Glance's code, not 201) with the new, pending member; with `{"members": [...]}`
    (Glint extension) 200 with one result per project."""
    body = json_body(bp)
    if members.is_bulk(body):
        return json_response({"results": [_result(r) for r in
                                          service.add_members(ctx, image_id, body)],
                              "schema": "/v2/schemas/members"})
    return json_response(_render(service.add_member(ctx, image_id, body)))


@route(bp, MEMBERS)
def list_members(ctx: RequestContext, image_id: str) -> Response:
    """The image's members as the caller may see them; `?limit=&marker=` pages them
    (Glint extension), with a `next` link while more remain."""
    params = query_params(bp)
    limit, marker = members.parse_page(params)
    found, next_marker = service.list_members(ctx, image_id, limit, marker)
    body: dict[str, Any] = {"members": [_render(m) for m in found],
                            "schema": "/v2/schemas/members"}
    if next_marker:
        body["next"] = with_query(MEMBERS.format(image_id=image_id),
                                  {"limit": [str(limit)], "marker": [next_marker]})
    return json_response(body)


@route(bp, MEMBER)
def show_member(ctx: RequestContext, image_id: str, member_id: str) -> Response:
    """One member."""
    return json_response(_render(service.get_member(ctx, image_id, member_id)))


@route(bp, MEMBER, methods=("PUT",))
def update_member(ctx: RequestContext, image_id: str, member_id: str) -> Response:
    """The member's new status, from `{"status": ...}`."""
    member = service.update_member(ctx, image_id, member_id, json_body(bp))
    return json_response(_render(member))


@route(bp, MEMBER, methods=("DELETE",))
def remove_member(ctx: RequestContext, image_id: str, member_id: str) -> Response:
    """204."""
    service.remove_member(ctx, image_id, member_id)
    return no_content()


@route(bp, "/v2/schemas/member")
def show_member_schema(ctx: RequestContext) -> Response:
    """Glance's member schema."""
    return json_response(members.member_schema())


@route(bp, "/v2/schemas/members")
def show_members_schema(ctx: RequestContext) -> Response:
    """Glance's member-list schema."""
    return json_response(members.members_schema())


def _render(member: Member) -> dict[str, Any]:
    return {**members.document(member), "schema": "/v2/schemas/member"}


def _result(added: Added) -> dict[str, Any]:
    if added.error is not None or added.member is None:
        return {"member_id": added.member_id, "code": status_for(added.error),
                "message": added.error.message}
    return {"member_id": added.member_id, "code": 200, "member": _render(added.member)}
