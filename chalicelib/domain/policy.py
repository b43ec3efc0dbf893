"""Who may see and change an image. Pure functions over the context and the image."""
from __future__ import annotations

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.image import Image

_VISIBLE_TO_ALL = frozenset({"public", "community"})


def can_see(ctx: RequestContext, image: Image, member_status: str | None = None) -> bool:
    """Admins see everything; others their own images, public/community ones, and shared
    ones they are a member of, whatever their `member_status` (None: not a member)."""
    return (ctx.is_admin or image.owner == ctx.project_id or image.visibility in _VISIBLE_TO_ALL
            or (image.visibility == "shared" and member_status is not None))


def require_visible(ctx: RequestContext, image: Image, member_status: str | None = None) -> Image:
    """Return the image, or pretend it does not exist (404, not 403).

    Raises:
        NotFound: the caller may not see the image.
    """
    if not can_see(ctx, image, member_status):
        raise NotFound(f"No image found with ID {image.id}")
    return image


def require_owner(ctx: RequestContext, image: Image, action: str) -> None:
    """Only the owning project (or an admin) may change an image it can see; call it on an
    image from services.images.get_image, whose visibility check knows memberships.

    Raises:
        Forbidden: the caller sees it but does not own it.
    """
    if not (ctx.is_admin or image.owner == ctx.project_id):
        raise Forbidden(f"You are not permitted to {action} image {image.id}.")


def require_may_publicize(ctx: RequestContext, visibility: str) -> None:
    """Making an image public is for admins (Glance's `publicize_image`).

    Raises:
        Forbidden: a non-admin asked for public visibility.
    """
    if visibility == "public" and not ctx.is_admin:
        raise Forbidden("You are not authorized to complete publicize_image action.")
