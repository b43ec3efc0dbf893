"""Quota holds: what a project is charged as images, uploads and copies come, within which
limits. Below both the services (API) and the pipeline (workers), which both charge and
give back; every charge and give-back goes in the same transaction as the image write it
accounts for (db.along)."""
from __future__ import annotations

from chalicelib.config import get_settings
from chalicelib.db import usage as usage_db
from chalicelib.db.along import Along
from chalicelib.domain import quotas, usage
from chalicelib.domain.image import Image
from chalicelib.domain.usage import Deltas


def limits_of(project_id: str, stored: usage_db.ProjectUsage | None = None) -> dict[str, int]:
    """The project's effective limits: the deployment's defaults, then an admin's overrides."""
    stored = usage_db.read(project_id) if stored is None else stored
    settings = get_settings()
    defaults = {usage.IMAGE_SIZE_TOTAL: settings.quota_image_size_total_mib,
                usage.IMAGE_STAGE_TOTAL: settings.quota_image_stage_total_mib,
                usage.IMAGE_COUNT_TOTAL: settings.quota_image_count_total,
                usage.IMAGE_COUNT_UPLOADING: settings.quota_image_count_uploading}
    return quotas.effective_limits(defaults, stored.overrides)


def upload_deltas(image: Image, size: int) -> Deltas:
    """What a new upload of `size` declared bytes holds, to be recorded on the image with
    `reserved_bytes=size`; replacing a pending upload holds only the difference."""
    return usage.combine(usage.upload(size), usage.negate(usage.reserved(image.upload)))


def upload_charge(image: Image, size: int) -> Along:
    """The charge for a new upload of `size` declared bytes (see `upload_deltas`), to go in
    the same transaction as the image write that records the upload."""
    return Along(image.owner, upload_deltas(image, size), limits_of(image.owner))
