"""Image families: resolving a family's latest image for the caller, and deprecation
(docs/families.md)."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from chalicelib import events
from chalicelib.db import image_families
from chalicelib.db import images as image_db
from chalicelib.domain import families, policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.domain.image import Image, Status, utcnow
from chalicelib.services.images import get_image, get_image_for, member_status

log = logging.getLogger(__name__)
IMAGE_DEPRECATE = "image.deprecate"


def resolve_latest(ctx: RequestContext, params: dict[str, list[str]]) -> list[Image]:
    """`GET /v2/images?family=F&latest=true`: the newest active, not deprecated image of
    the family that the caller's default image list shows, as a list of one (or none).

    Raises:
        Invalid: a malformed query.
        Forbidden: the `get_images` rule refuses the caller.
    """
    family = families.parse_resolution(params)
    policy.require_allowed(ctx, "get_images", {"project_id": ctx.project_id})
    now = families.wire_now()
    for candidate in image_families.newest_first(family):
        # Shares are settled on the image read (one membership read), the rest here.
        if not families.listed_by_default(ctx, candidate.owner, candidate.visibility,
                                          "accepted"):
            continue
        try:
            image = image_db.get(candidate.id)
        except NotFound:  # deleted since the index was read
            continue
        status = member_status(ctx, image)
        if (image.status is Status.ACTIVE and not families.is_deprecated(image, now)
                and image.properties.get(families.FAMILY_PROPERTY) == family
                and families.listed_by_default(ctx, image.owner, image.visibility, status)
                and policy.can_see(ctx, image, status)):
            return [image]
    return []


def deprecate(ctx: RequestContext, image_id: str, body: Any) -> Image:
    """`POST /v2/images/{id}/actions/deprecate`: mark the image deprecated (now or from a
    given date), optionally naming its replacement; publishes `image.deprecate`.

    Raises:
        NotFound: the image, or the replacement, is invisible to the caller.
        Forbidden: the caller is neither the owner nor an admin.
        Invalid: a malformed body, or the image named as its own replacement.
    """
    image = get_image_for(ctx, image_id, "modify_image")
    at, replacement = families.parse_deprecation(body, families.wire_now())
    if replacement == image.id:
        raise Invalid("An image cannot replace itself.")
    if replacement:
        get_image(ctx, replacement)
    saved = image_db.save(replace(image, updated_at=utcnow(), properties=families.deprecated(
        image.properties, at, replacement)))
    events.publish_image(IMAGE_DEPRECATE, saved, deprecated_at=at, replacement_id=replacement)
    log.info("image deprecated", extra={"image_id": image.id, "replacement_id": replacement})
    return saved
