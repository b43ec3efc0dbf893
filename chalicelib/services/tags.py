"""Image-tag use cases: add or remove one tag.

A lost optimistic-locking race is replayed on the fresh record instead of answering 409:
adding or removing one tag gives the same result in either order with any other change.
"""
from __future__ import annotations

from collections.abc import Callable

from chalicelib import events
from chalicelib.db import images as image_db
from chalicelib.domain import tags
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.image import Image, utcnow
from chalicelib.services import quotas as quota_service
from chalicelib.services.images import get_image_for

# Read-modify-write attempts before a still-contended tag change gives up with 409.
ATTEMPTS = 3


def add_tag(ctx: RequestContext, image_id: str, tag: str) -> None:
    """`PUT /v2/images/{id}/tags/{tag}`: idempotent.

    Raises:
        NotFound: the caller may not see the image.
        Forbidden: the image is not the caller's.
        Invalid: the tag is empty or longer than 255 characters.
        QuotaExceeded: the image already has the most tags allowed.
        StaleWrite: the image kept changing underneath every attempt.
    """
    limit = quota_service.image_limits().tags
    _change_tags(ctx, image_id, lambda image: tags.with_tag(image, tag, limit, utcnow()),
                 tag_added=tag)


def remove_tag(ctx: RequestContext, image_id: str, tag: str) -> None:
    """`DELETE /v2/images/{id}/tags/{tag}`.

    Raises:
        NotFound: the caller may not see the image, or it has no such tag.
        Forbidden: the image is not the caller's.
        StaleWrite: the image kept changing underneath every attempt.
    """
    _change_tags(ctx, image_id, lambda image: tags.without_tag(image, tag, utcnow()),
                 tag_removed=tag)


def _change_tags(ctx: RequestContext, image_id: str, change: Callable[[Image], Image],
                 **detail: str) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        image = get_image_for(ctx, image_id, "modify_image")
        updated = change(image)
        if updated is image:
            return
        try:
            saved = image_db.save(updated)
        except StaleWrite:
            if attempt == ATTEMPTS:
                raise
            continue
        # Glance's notifier reports tag changes as image.update; `detail` says which.
        events.publish_image(events.IMAGE_UPDATE, saved, **detail)
        return
