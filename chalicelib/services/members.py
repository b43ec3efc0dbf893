"""Image-member use cases: share, list, show, accept or reject, unshare.

Each reads the image through images.get_image first, so an image the caller may not see
is a 404 before any member rule is looked at.
"""
from __future__ import annotations

from typing import Any

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import members as member_db
from chalicelib.domain import members
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Image, utcnow
from chalicelib.domain.members import Member
from chalicelib.services.images import get_image


def add_member(ctx: RequestContext, image_id: str, body: Any) -> Member:
    """`POST /v2/images/{id}/members`: share the image; the member starts `pending`.

    Raises:
        Invalid: the body does not name a member.
        NotFound: the caller may not see the image.
        Forbidden: the image is not `shared`, or not the caller's.
        QuotaExceeded: the image already has the most members allowed.
        Conflict: the project is already a member.
    """
    member_id = members.parse_new_member(body)
    image = get_image(ctx, image_id)
    members.require_shared(image)
    members.require_may_manage(ctx, image, "create")
    members.require_member_quota(member_db.count(image.id), get_settings().image_member_quota)
    member = member_db.add(members.new_member(image, member_id, utcnow()), image)
    events.publish_member(events.IMAGE_MEMBER_CREATE, member, image.owner)
    return member


def list_members(ctx: RequestContext, image_id: str) -> list[Member]:
    """`GET /v2/images/{id}/members`: all of them for the owner, its own for a member.

    Raises:
        NotFound: the caller is neither the owner nor a member.
        Forbidden: the image is not `shared`.
    """
    image = get_image(ctx, image_id)
    members.require_shared(image)
    return members.visible_members(ctx, image, member_db.list_for_image(image.id))


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
    members.require_may_set_status(ctx, member)
    updated = member_db.update(members.with_status(member, status, utcnow()), image)
    events.publish_member(events.IMAGE_MEMBER_UPDATE, updated, image.owner)
    return updated


def remove_member(ctx: RequestContext, image_id: str, member_id: str) -> None:
    """`DELETE /v2/images/{id}/members/{member_id}`: unshare.

    Raises:
        NotFound: no such image or membership.
        Forbidden: the image is not `shared`, or not the caller's.
    """
    image = get_image(ctx, image_id)
    members.require_shared(image)
    members.require_may_manage(ctx, image, "delete")
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
