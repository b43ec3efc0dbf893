"""A project's usage and the limit arithmetic, in Glance's unified-limits terms.
Standard library only."""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib.domain.image import Image, Status
from chalicelib.domain.uploads import MIB

# A limit of -1 means no limit, in settings and on the wire (Glance's convention).
UNLIMITED = -1
IMAGE_SIZE_TOTAL = "image_size_total"
IMAGE_STAGE_TOTAL = "image_stage_total"
IMAGE_COUNT_TOTAL = "image_count_total"
IMAGE_COUNT_UPLOADING = "image_count_uploading"

# Glance counts these as uploads in flight.
_UPLOADING = frozenset({Status.SAVING, Status.UPLOADING, Status.IMPORTING})
# Statuses whose declared bytes sit in staging until the worker has consumed them.
_STAGED = frozenset({Status.UPLOADING, Status.IMPORTING})


def exceeds(count: int, limit: int) -> bool:
    """True when `count` is more than `limit` allows."""
    return limit != UNLIMITED and count > limit


def project_usage(images: Iterable[Image]) -> dict[str, int]:
    """Usage of a project's live images; sizes in whole MiB, rounded down as Glance does."""
    stored = staged = count = uploading = 0
    for image in images:
        count += 1
        # Each stored copy counts, as in Glance (size times live locations).
        copies = sum(1 for loc in image.locations if loc.status != "deleted")
        stored += (image.size or 0) * copies
        if image.status in _STAGED and image.upload:
            staged += image.upload.size
        if image.status in _UPLOADING:
            uploading += 1
    return {IMAGE_SIZE_TOTAL: stored // MIB, IMAGE_STAGE_TOTAL: staged // MIB,
            IMAGE_COUNT_TOTAL: count, IMAGE_COUNT_UPLOADING: uploading}
