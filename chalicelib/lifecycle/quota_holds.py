"""Quota holds: charge a project as images, uploads and copies come, give back as they go.
Below both the services (API) and the pipeline (workers), which both hold and release.

A charge that goes with an image write is best made in the same transaction as the write
(db.imports, `limits_of` for its ceilings); `held` is for the charges that precede a write
of another kind, and gives back at once if that write fails."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from chalicelib.config import get_settings
from chalicelib.db import usage as usage_db
from chalicelib.db.along import Along
from chalicelib.domain import quotas, usage
from chalicelib.domain.image import Image
from chalicelib.domain.usage import Deltas

log = logging.getLogger(__name__)


def limits_of(project_id: str, stored: usage_db.ProjectUsage | None = None) -> dict[str, int]:
    """The project's effective limits: the deployment's defaults, then an admin's overrides."""
    stored = usage_db.read(project_id) if stored is None else stored
    settings = get_settings()
    defaults = {usage.IMAGE_SIZE_TOTAL: settings.quota_image_size_total_mib,
                usage.IMAGE_STAGE_TOTAL: settings.quota_image_stage_total_mib,
                usage.IMAGE_COUNT_TOTAL: settings.quota_image_count_total,
                usage.IMAGE_COUNT_UPLOADING: settings.quota_image_count_uploading}
    return quotas.effective_limits(defaults, stored.overrides)


def charge(project_id: str, deltas: Deltas) -> None:
    """Hold `deltas` against the project's limits.

    Raises:
        QuotaExceeded: a limit would be exceeded (nothing is held).
    """
    usage_db.reserve(project_id, deltas, limits_of(project_id))


def give_back(project_id: str, deltas: Deltas) -> None:
    """Return what `charge` held (after the write it was for failed, or the thing went)."""
    usage_db.apply(project_id, usage.negate(deltas))


@contextmanager
def held(project_id: str, deltas: Deltas) -> Iterator[None]:
    """Charge `deltas` for the block that records what they pay for; if the block fails,
    nothing will ever give them back, so give them back at once.

    Raises:
        QuotaExceeded: a limit would be exceeded (the block does not run).
    """
    charge(project_id, deltas)
    try:
        yield
    except BaseException:
        give_back(project_id, deltas)
        raise


def upload_deltas(image: Image, size: int) -> Deltas:
    """What a new upload of `size` declared bytes holds, to be recorded on the image with
    `reserved_bytes=size`; replacing a pending upload holds only the difference."""
    return usage.combine(usage.upload(size), usage.negate(usage.reserved(image.upload)))


def upload_charge(image: Image, size: int) -> Along:
    """The charge for a new upload of `size` declared bytes (see `upload_deltas`), to go in
    the same transaction as the image write that records the upload."""
    return Along(image.owner, upload_deltas(image, size), limits_of(image.owner))


def upload_held(image: Image, size: int) -> AbstractContextManager[None]:
    """`held` for a new upload of `size` declared bytes (see `upload_deltas`).

    Raises:
        QuotaExceeded: the upload would break the owner's limits.
    """
    return held(image.owner, upload_deltas(image, size))
