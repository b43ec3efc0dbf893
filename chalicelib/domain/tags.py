"""Adding and removing one image tag, with Glance's limits. Standard library only."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import Invalid, NotFound, QuotaExceeded
from chalicelib.domain.image import Image
from chalicelib.domain.usage import exceeds

# The image schema's `maxLength` for a tag.
MAX_TAG_LENGTH = 255


def with_tag(image: Image, tag: str, limit: int, now: str) -> Image:
    """The image with `tag` added; the same object when it already has it (idempotent).

    Raises:
        Invalid: the tag is empty or longer than 255 characters.
        QuotaExceeded: the image already has `limit` tags (-1: unlimited).
    """
    if not tag or len(tag) > MAX_TAG_LENGTH:
        raise Invalid(f"Could not update image: a tag must have 1 to {MAX_TAG_LENGTH} "
                      "characters.")
    if tag in image.tags:
        return image
    if exceeds(len(image.tags) + 1, limit):
        raise QuotaExceeded(f"Image tag limit exceeded for image {image.id}: "
                            f"the limit is {limit}.")
    return replace(image, tags=(*image.tags, tag), updated_at=now)


def without_tag(image: Image, tag: str, now: str) -> Image:
    """The image with `tag` removed.

    Raises:
        NotFound: the image has no such tag.
    """
    if tag not in image.tags:
        raise NotFound(f"Tag {tag} not found on image {image.id}.")
    return replace(image, tags=tuple(t for t in image.tags if t != tag), updated_at=now)
