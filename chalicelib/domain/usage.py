"""What a project uses, in Glance's unified-limits terms, and what each operation costs.
Standard library only."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.domain.image import Image, PendingUpload

# A limit of -1 means no limit, in settings and on the wire (Glance's convention).
UNLIMITED = -1
IMAGE_SIZE_TOTAL = "image_size_total"
IMAGE_STAGE_TOTAL = "image_stage_total"
IMAGE_COUNT_TOTAL = "image_count_total"
IMAGE_COUNT_UPLOADING = "image_count_uploading"
QUOTA_NAMES = (IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL, IMAGE_COUNT_TOTAL, IMAGE_COUNT_UPLOADING)
# Counted in bytes, limited and reported in MiB (as Glance's unified limits are).
SIZE_QUOTAS = frozenset({IMAGE_SIZE_TOTAL, IMAGE_STAGE_TOTAL})

# Changes to a project's counters, by quota name (bytes for the sizes).
Deltas = Mapping[str, int]


def exceeds(count: int, limit: int) -> bool:
    """True when `count` is more than `limit` allows."""
    return limit != UNLIMITED and count > limit


def stored_bytes(image: Image) -> int:
    """Bytes the image keeps in its stores: every live location counts, as in Glance;
    a converted variant by its own size, the original by the image's."""
    return sum(loc.size if loc.size is not None else image.size or 0
               for loc in image.locations if loc.status != "deleted")


def new_image() -> Deltas:
    """What creating an image costs."""
    return {IMAGE_COUNT_TOTAL: 1}


def upload(size: int) -> Deltas:
    """What an upload in flight holds: one upload, its declared bytes in staging, and the
    same bytes against the stored total (so uploads racing each other cannot overshoot it)."""
    return {IMAGE_COUNT_UPLOADING: 1, IMAGE_STAGE_TOTAL: size, IMAGE_SIZE_TOTAL: size}


def reserved(pending: PendingUpload | None) -> Deltas:
    """What a pending upload holds; nothing if no reservation was recorded on it."""
    if pending is None or pending.reserved_bytes is None:
        return {}
    return upload(pending.reserved_bytes)


def activation(pending: PendingUpload, active: Image) -> Deltas:
    """The upload's reservation given back and the image's real stored bytes charged."""
    return combine(negate(reserved(pending)), {IMAGE_SIZE_TOTAL: stored_bytes(active)})


def deletion(image: Image) -> Deltas:
    """What deleting the image gives back: its count, its stored bytes, any pending upload."""
    return negate(combine(new_image(), {IMAGE_SIZE_TOTAL: stored_bytes(image)},
                          reserved(image.upload)))


def negate(deltas: Deltas) -> Deltas:
    """The opposite change."""
    return {name: -delta for name, delta in deltas.items()}


def combine(*parts: Deltas) -> Deltas:
    """The sum of changes, without the names that cancel out."""
    total: dict[str, int] = {}
    for part in parts:
        for name, delta in part.items():
            total[name] = total.get(name, 0) + delta
    return {name: delta for name, delta in total.items() if delta}


def recount(images: Iterable[Image]) -> dict[str, int]:
    """What a project's counters should hold, from its live image records: one image each,
    the bytes it keeps in its stores, and its pending upload's hold."""
    total = dict.fromkeys(QUOTA_NAMES, 0)
    for image in images:
        held = combine(new_image(), {IMAGE_SIZE_TOTAL: stored_bytes(image)},
                       reserved(image.upload))
        for name, delta in held.items():
            total[name] += delta
    return total
