"""Image-member use cases: share, list, show, accept or reject, unshare.

Each reads the image through images.get_image first, so an image the caller may not see
is a 404 before any member rule is looked at.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import members as member_db
from chalicelib.domain import members
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, GlintError, Invalid, NotFound
from chalicelib.domain.image import Image, utcnow
from chalicelib.domain.members import Member
from chalicelib.services import member_validation
from chalicelib.services.images import get_image, get_image_for


@dataclass(frozen=True, slots=True)
class Added:
    """One project's outcome in a bulk add: the new member, or why it was not added."""

    member_id: str
    member: Member | None
    error: GlintError | None = None


def add_member(ctx: RequestContext, image_id: str, body: Any) -> Member:
    """`POST /v2/images/{id}/members`: share the image; the member starts `pending`.

    Raises:
        Invalid: the body does not name a member, or (validation on) no such project exists.
        NotFound: the caller may not see the image.
        Forbidden: the image is not `shared`, or not the caller's.
        QuotaExceeded: the image already has the most members allowed.
        Conflict: the project is already a member.
        ServiceUnavailable: project validation is on and Keystone cannot be asked.
    """
    member_id = members.parse_new_member(body)
    image = _manageable(ctx, image_id, "add_member")
    members.require_member_quota(member_db.count(image.id), get_settings().image_member_quota)
    member_validation.require_known([member_id])
    return _add(image, member_id)


def add_members(ctx: RequestContext, image_id: str, body: Any) -> list[Added]:
    """`POST /v2/images/{id}/members` with `{"members": [...]}` (Glint extension): share with
    many projects at once; one result per project, in the order given.

    Raises:
        Invalid: the body is not a list of member ids.
        NotFound: the caller may not see the image.
        Forbidden: the image is not `shared`, or not the caller's.
        QuotaExceeded: the new members would not all fit (nothing is added then).
        ServiceUnavailable: project validation is on and Keystone cannot be asked.
    """
    wanted = members.parse_new_members(body)
    image = _manageable(ctx, image_id, "add_member")
    present = {m.member_id for m in member_db.list_for_image(image.id)}
    unknown = member_validation.project_validator().unknown(
        m for m in wanted if m not in present)
    fresh = [m for m in wanted if m not in present and m not in unknown]
    members.require_member_quota(len(present), get_settings().image_member_quota, len(fresh))
    results = []
    for member_id in wanted:
        if member_id in present:
            results.append(Added(member_id, None, Conflict(
                f"Member {member_id} is duplicated for image {image.id}")))
        elif member_id in unknown:
            results.append(Added(member_id, None, Invalid(f"No such project: {member_id}.")))
        else:
            try:
                results.append(Added(member_id, _add(image, member_id)))
            except Conflict as exc:  # added by a concurrent call: reported, the rest go on
                results.append(Added(member_id, None, exc))
    return results


def _manageable(ctx: RequestContext, image_id: str, rule: str) -> Image:
    image = get_image(ctx, image_id)
    members.require_shared(image)
    members.require_may_manage(ctx, image, rule)
    return image


def _add(image: Image, member_id: str) -> Member:
    member = member_db.add(members.new_member(image, member_id, utcnow()), image)
    events.publish_member(events.IMAGE_MEMBER_CREATE, member, image.owner)
    return member


def list_members(ctx: RequestContext, image_id: str, limit: int | None = None,
                 marker: str | None = None) -> tuple[list[Member], str | None]:
    """`GET /v2/images/{id}/members`: all of them for the owner, its own for a member; one
    page after `marker` when `limit` is given (Glint extension), with the next page's marker.

    Raises:
        NotFound: the caller is neither the owner nor a member.
        Forbidden: the image is not `shared`, or the `get_members` rule refuses the caller.
    """
    image = get_image_for(ctx, image_id, "get_members")
    members.require_shared(image)
    visible = members.visible_members(ctx, image, member_db.list_for_image(image.id))
    return members.page(visible, limit, marker)


def get_member(ctx: RequestContext, image_id: str, member_id: str) -> Member:
    """`GET /v2/images/{id}/members/{member_id}` (Glance answers 404 for any refusal here).

    Raises:
        NotFound: no such image or membership, or not one the caller may see.
    """
    image = get_image(ctx, image_id)
    if not members.has_members(image):
        raise _no_member(image, member_id)
    return _visible_member(ctx, image, member_id)


def update_member(ctx: RequestContext, image_id: str, member_id: str, body: Any) -> Member:
    """`PUT /v2/images/{id}/members/{member_id}`: the member accepts or rejects the share.

    Raises:
        Invalid: the body has no valid status.
        NotFound: no such image or membership the caller may see.
        Forbidden: the image is not `shared`, or the caller is not that member.
    """
    status = members.parse_status(body)
    image = get_image(ctx, image_id)
    members.require_shared(image)
    member = _visible_member(ctx, image, member_id)
    members.require_may_set_status(ctx, image, member)
    updated = member_db.update(members.with_status(member, status, utcnow()), image)
    events.publish_member(events.IMAGE_MEMBER_UPDATE, updated, image.owner)
    return updated


def remove_member(ctx: RequestContext, image_id: str, member_id: str) -> None:
    """`DELETE /v2/images/{id}/members/{member_id}`: unshare.

    Raises:
        NotFound: no such image or membership.
        Forbidden: the image is not `shared`, or not the caller's.
    """
    image = _manageable(ctx, image_id, "delete_member")
    member = _visible_member(ctx, image, member_id)
    member_db.remove(member)
    events.publish_member(events.IMAGE_MEMBER_DELETE, member, image.owner, deleted_at=utcnow())


def _visible_member(ctx: RequestContext, image: Image, member_id: str) -> Member:
    member = member_db.find(image.id, member_id)
    # Another member's record is not the caller's business: it does not exist for them.
    if member is None or not members.may_see_member(ctx, image, member):
        raise _no_member(image, member_id)
    return member


def _no_member(image: Image, member_id: str) -> NotFound:
    return NotFound(f"{member_id} not found in the member list of the image {image.id}.")
