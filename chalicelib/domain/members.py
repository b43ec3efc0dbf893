"""Image members: the projects an image is shared with, and who may do what to them.
Standard library only."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, Invalid, QuotaExceeded
from chalicelib.domain.image import Image, wire_time
from chalicelib.domain.schema import collection_schema
from chalicelib.domain.usage import exceeds

# Glance stores member ids in a 255-character column.
MAX_MEMBER_ID_LENGTH = 255


class MemberStatus(StrEnum):
    """What the member project said about the share, with Glance's wire values."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Member:
    """One project an image is shared with."""

    image_id: str
    member_id: str
    status: MemberStatus
    created_at: str
    updated_at: str


def parse_new_member(body: Any) -> str:
    """The member id from `{"member": "<project id>"}`.

    Raises:
        Invalid: the body is not that shape, or the id is empty or too long.
    """
    if not isinstance(body, dict):
        raise Invalid('Expected a member in the form: {"member": "image_id"}')
    if "member" not in body:
        raise Invalid("Member to be added not specified")
    member_id = body["member"]
    if not member_id:
        raise Invalid("Member can't be empty")
    if not isinstance(member_id, str) or len(member_id) > MAX_MEMBER_ID_LENGTH:
        raise Invalid(f"Member must be a string of at most {MAX_MEMBER_ID_LENGTH} characters")
    return member_id


def parse_status(body: Any) -> MemberStatus:
    """The status from `{"status": "accepted"}`.

    Raises:
        Invalid: the body is not that shape, or the status is not one of Glance's three.
    """
    if not isinstance(body, dict):
        raise Invalid('Expected a status in the form: {"status": "status"}')
    if "status" not in body:
        raise Invalid("Status not specified")
    try:
        return MemberStatus(body["status"])
    except (ValueError, TypeError) as exc:
        raise Invalid(f"Incorrect request: Status must be one of "
                      f"{', '.join(s.value for s in MemberStatus)}") from exc


def new_member(image: Image, member_id: str, now: str) -> Member:
    """A fresh, pending membership."""
    return Member(image_id=image.id, member_id=member_id, status=MemberStatus.PENDING,
                  created_at=now, updated_at=now)


def with_status(member: Member, status: MemberStatus, now: str) -> Member:
    """The membership with the member's answer recorded."""
    return replace(member, status=status, updated_at=now)


def has_members(image: Image) -> bool:
    """Only `shared` images have members (others may keep dormant ones from before)."""
    return image.visibility == "shared"


def require_shared(image: Image) -> None:
    """Members exist only on `shared` images (Glance answers 403 otherwise).

    Raises:
        Forbidden: the image's visibility is not `shared`.
    """
    if not has_members(image):
        raise Forbidden("Only shared images have members.")


def require_may_manage(ctx: RequestContext, image: Image, action: str) -> None:
    """Only the owner (or an admin) adds and removes members.

    Raises:
        Forbidden: the caller sees the image but does not own it.
    """
    if not (ctx.is_admin or image.owner == ctx.project_id):
        raise Forbidden(f"Not allowed to {action} members for image {image.id}.")


def require_may_set_status(ctx: RequestContext, member: Member) -> None:
    """Only the member itself (or an admin) accepts or rejects a share; the owner may not.

    Raises:
        Forbidden: the caller is not that member.
    """
    if not (ctx.is_admin or member.member_id == ctx.project_id):
        raise Forbidden("You are not permitted to modify 'status' on this image member.")


def may_see_member(ctx: RequestContext, image: Image, member: Member) -> bool:
    """The owner (and admins) see every member; a member sees only its own record."""
    return ctx.is_admin or image.owner == ctx.project_id or member.member_id == ctx.project_id


def visible_members(ctx: RequestContext, image: Image, members: Iterable[Member]) -> list[Member]:
    """The members the caller may see, in member-id order."""
    return sorted((m for m in members if may_see_member(ctx, image, m)),
                  key=lambda m: m.member_id)


def require_member_quota(current: int, limit: int) -> None:
    """One more member must fit under the limit (-1: unlimited).

    Raises:
        QuotaExceeded: the image already has `limit` members.
    """
    if exceeds(current + 1, limit):
        raise QuotaExceeded(f"Maximum number of image members exceeded: the limit is {limit}.")


def document(member: Member) -> dict[str, Any]:
    """The member as a client sees it, without links."""
    return {"image_id": member.image_id, "member_id": member.member_id,
            "status": str(member.status), "created_at": wire_time(member.created_at),
            "updated_at": wire_time(member.updated_at)}


_UUID_PATTERN = ("^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                 "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$")


def member_schema() -> dict[str, Any]:
    """Glance's member schema."""
    return {
        "name": "member",
        "properties": {
            "member_id": {"type": "string",
                          "description": "An identifier for the image member (tenantId)"},
            "image_id": {"type": "string", "description": "An identifier for the image",
                         "pattern": _UUID_PATTERN},
            "created_at": {"type": "string",
                           "description": "Date and time of image member creation"},
            "updated_at": {"type": "string",
                           "description": "Date and time of last modification of image member"},
            "status": {"type": "string", "description": "The status of this image member",
                       "enum": [s.value for s in MemberStatus]},
            "schema": {"type": "string"},
        },
        "additionalProperties": False,
    }


def members_schema() -> dict[str, Any]:
    """Glance's member-list schema."""
    return collection_schema("members", member_schema())
