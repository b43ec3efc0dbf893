"""Image members: the projects an image is shared with, and who may do what to them.
Standard library only."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from chalicelib.domain import policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, Invalid, QuotaExceeded
from chalicelib.domain.image import Image, wire_time
from chalicelib.domain.schema import collection_schema
from chalicelib.domain.usage import exceeds

# Glance stores member ids in a 255-character column.
MAX_MEMBER_ID_LENGTH = 255
# Glint extensions: projects added by one bulk call, members in one page of a list.
MAX_BULK_MEMBERS = 1000
MAX_PAGE = 1000


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


def is_bulk(body: Any) -> bool:
    """`{"members": [...]}`: Glint's bulk form of add-member (docs/policy.md)."""
    return isinstance(body, dict) and "members" in body and "member" not in body


def parse_new_members(body: Any) -> list[str]:
    """The member ids from `{"members": ["<project id>", ...]}`, first occurrence first.

    Raises:
        Invalid: not that shape, an id is empty or too long, or more than MAX_BULK_MEMBERS.
    """
    ids = body.get("members") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise Invalid('Expected members in the form: {"members": ["project_id", ...]}')
    if len(ids) > MAX_BULK_MEMBERS:
        raise Invalid(f"At most {MAX_BULK_MEMBERS} members may be added in one call.")
    return list(dict.fromkeys(parse_new_member({"member": m}) for m in ids))


def parse_page(params: Mapping[str, str]) -> tuple[int | None, str | None]:
    """`limit` and `marker` (the last member id of the previous page) from a member-list
    query; no limit: the whole list, as Glance answers.

    Raises:
        Invalid: the limit is not an integer from 1 to MAX_PAGE.
    """
    raw = params.get("limit")
    if raw is not None and not (raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise Invalid(f"limit must be an integer from 1 to {MAX_PAGE}.")
    return (int(raw) if raw is not None else None), params.get("marker") or None


def page(found: list[Member], limit: int | None, marker: str | None
         ) -> tuple[list[Member], str | None]:
    """The members (in member-id order) after `marker`, at most `limit`, and the marker of
    the next page (None on the last)."""
    after = [m for m in found if marker is None or m.member_id > marker]
    if limit is None or len(after) <= limit:
        return after, None
    return after[:limit], after[limit - 1].member_id


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


def require_may_manage(ctx: RequestContext, image: Image, rule: str) -> None:
    """The `add_member` / `delete_member` rule: by default the owner (or an admin).

    Raises:
        Forbidden: the caller sees the image but the rule refuses it.
    """
    if not policy.allowed(ctx, rule, policy.image_target(image)):
        raise Forbidden(f"Not allowed to {rule.replace('_', ' ')}s for image {image.id}.")


def require_may_set_status(ctx: RequestContext, image: Image, member: Member) -> None:
    """The `modify_member` rule: by default only the member itself (or an admin) accepts or
    rejects a share; the owner may not.

    Raises:
        Forbidden: the caller is not that member.
    """
    if not policy.allowed(ctx, "modify_member", policy.image_target(image, member.member_id)):
        raise Forbidden("You are not permitted to modify 'status' on this image member.")


def may_see_member(ctx: RequestContext, image: Image, member: Member) -> bool:
    """The `get_member` rule: by default the owner (and admins) see every member; a member
    sees only its own record."""
    return policy.allowed(ctx, "get_member", policy.image_target(image, member.member_id))


def visible_members(ctx: RequestContext, image: Image, members: Iterable[Member]) -> list[Member]:
    """The members the caller may see, in member-id order."""
    return sorted((m for m in members if may_see_member(ctx, image, m)),
                  key=lambda m: m.member_id)


def require_member_quota(current: int, limit: int, adding: int = 1) -> None:
    """`adding` more members must fit under the limit (-1: unlimited).

    Raises:
        QuotaExceeded: the image would have more than `limit` members.
    """
    if exceeds(current + adding, limit):
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
