"""Who may see and change an image: every check evaluates the context's policy rules
(Glance's defaults, see policy_defaults.json and docs/policy.md). Pure functions."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.image import Image

_VISIBLE_TO_ALL = frozenset({"public", "community"})


def image_target(image: Image, member_id: str | None = None) -> dict[str, Any]:
    """What rules about an image compare against (Glance's ImageTarget): `project_id` is the
    owner, `member_id` the membership in question (if any)."""
    return {"project_id": image.owner, "owner": image.owner, "visibility": image.visibility,
            "image_id": image.id, "member_id": member_id}


def allowed(ctx: RequestContext, rule: str, target: dict[str, Any]) -> bool:
    """Whether the caller passes the named rule on the target."""
    return ctx.policy.allows(rule, ctx.credentials, target)


def can_see(ctx: RequestContext, image: Image, member_status: str | None = None) -> bool:
    """Tenancy first (admins see everything; others their own images, public/community ones,
    and shared ones they are a member of, whatever their `member_status`; None: not a
    member), then the `get_image` rule."""
    in_reach = (ctx.is_admin or image.owner == ctx.project_id
                or image.visibility in _VISIBLE_TO_ALL
                or (image.visibility == "shared" and member_status is not None))
    return in_reach and allowed(ctx, "get_image", _target(ctx, image, member_status))


def require_visible(ctx: RequestContext, image: Image, member_status: str | None = None) -> Image:
    """Return the image, or pretend it does not exist (404, not 403).

    Raises:
        NotFound: the caller may not see the image.
    """
    if not can_see(ctx, image, member_status):
        raise NotFound(f"No image found with ID {image.id}")
    return image


def require(ctx: RequestContext, rule: str, image: Image, member_status: str | None = None) -> None:
    """The caller may do `rule` to an image it can see (call it on an image from
    services.images.get_image, whose visibility check knows memberships).

    Raises:
        Forbidden: the rule refuses the caller.
    """
    if not allowed(ctx, rule, _target(ctx, image, member_status)):
        raise Forbidden(f"You are not authorized to complete {rule} action.")


def require_allowed(ctx: RequestContext, rule: str, target: dict[str, Any]) -> None:
    """The caller passes the rule on a target that is not an existing image (create, list).

    Raises:
        Forbidden: the rule refuses the caller.
    """
    if not allowed(ctx, rule, target):
        raise Forbidden(f"You are not authorized to complete {rule} action.")


def require_may_publicize(ctx: RequestContext, visibility: str, owner: str) -> None:
    """Public visibility needs `publicize_image` (admins), community `communitize_image`.

    Raises:
        Forbidden: the caller may not give an image of `owner` that visibility.
    """
    rule = {"public": "publicize_image", "community": "communitize_image"}.get(visibility)
    if rule:
        require_allowed(ctx, rule, {"project_id": owner, "owner": owner,
                                    "visibility": visibility})


def _target(ctx: RequestContext, image: Image, member_status: str | None) -> dict[str, Any]:
    return image_target(image, ctx.project_id if member_status is not None else None)
