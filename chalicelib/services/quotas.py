"""Quota use cases: charge a project as images and uploads come, give back as they go, report
usage, and the admins' per-project limits (`/v2/quotas/{project_id}`, a Glint extension).

Charges are atomic conditional writes (db.usage.reserve). Each give-back follows the one
conditional image write that ends what was charged (the upload cleared, the tombstone), so a
repeated event or a retried worker never gives back twice."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.db import usage as usage_db
from chalicelib.domain import policy, quotas, usage
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.image import Image, PendingUpload
from chalicelib.domain.quotas import ImageLimits, Quota
from chalicelib.domain.usage import Deltas

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProjectQuotas:
    """One project's usage against its limits, and which limits an admin set for it."""

    project_id: str
    quotas: dict[str, Quota]
    overrides: dict[str, int]


def image_limits() -> ImageLimits:
    """The per-image bounds on properties and tags."""
    settings = get_settings()
    return ImageLimits(properties=settings.image_property_quota, tags=settings.image_tag_quota)


def charge(project_id: str, deltas: Deltas) -> None:
    """Hold `deltas` against the project's limits.

    Raises:
        QuotaExceeded: a limit would be exceeded (nothing is held).
    """
    usage_db.reserve(project_id, deltas, _limits(usage_db.read(project_id)))


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


def upload_held(image: Image, size: int) -> AbstractContextManager[None]:
    """`held` for a new upload of `size` declared bytes, to be recorded on the image with
    `reserved_bytes=size`; replacing a pending upload holds only the difference.

    Raises:
        QuotaExceeded: the upload would break the owner's limits.
    """
    return held(image.owner, usage.combine(usage.upload(size),
                                           usage.negate(usage.reserved(image.upload))))


def release_upload(owner: str, pending: PendingUpload) -> None:
    """Give back a failed or abandoned upload's hold (call once its record is gone)."""
    usage_db.apply(owner, usage.negate(usage.reserved(pending)))
    log.info("upload hold released", extra={"project": owner, "upload_id": pending.id})


def settle_upload(pending: PendingUpload, active: Image) -> None:
    """Turn an activated upload's hold into the image's real stored bytes."""
    usage_db.apply(active.owner, usage.activation(pending, active))


def release_image(image: Image) -> None:
    """Give back everything a purged image held (call once its tombstone is written)."""
    usage_db.apply(image.owner, usage.deletion(image))


def follow_owner(before: Image, after: Image) -> None:
    """Move what the image holds to its new owner (call after the write that gave it away).
    As in Glance, the new owner's limits do not stop an admin's transfer."""
    if before.owner == after.owner:
        return
    holdings = usage.negate(usage.deletion(before))
    usage_db.apply(after.owner, holdings)
    usage_db.apply(before.owner, usage.negate(holdings))
    log.info("image usage moved", extra={"image_id": after.id, "from": before.owner,
                                         "to": after.owner})


def usage_of(project_id: str) -> dict[str, Quota]:
    """The project's usage against its limits, in the API's units."""
    return _quotas(project_id).quotas


def show_quotas(ctx: RequestContext, project_id: str) -> ProjectQuotas:
    """`GET /v2/quotas/{project_id}` (admins).

    Raises:
        Forbidden: the caller is not an admin.
    """
    _require_admin(ctx, project_id)
    return _quotas(project_id)


def set_quotas(ctx: RequestContext, project_id: str, body: Any) -> ProjectQuotas:
    """`PUT /v2/quotas/{project_id}` (admins): set or (with null) clear the project's limits.
    A limit below current usage stops new charges; nothing held is taken away.

    Raises:
        Forbidden: the caller is not an admin.
        Invalid: the body is not an object of quota names to limits.
    """
    _require_admin(ctx, project_id)
    overrides = quotas.parse_overrides(body)
    usage_db.set_overrides(project_id, overrides)
    log.info("project limits set", extra={"project": project_id, "limits": overrides,
                                          "by": ctx.project_id})
    return _quotas(project_id)


def _quotas(project_id: str) -> ProjectQuotas:
    stored = usage_db.read(project_id)
    return ProjectQuotas(project_id, quotas.report(stored.counters, _limits(stored)),
                         stored.overrides)


def _limits(stored: usage_db.ProjectUsage) -> dict[str, int]:
    settings = get_settings()
    defaults = {usage.IMAGE_SIZE_TOTAL: settings.quota_image_size_total_mib,
                usage.IMAGE_STAGE_TOTAL: settings.quota_image_stage_total_mib,
                usage.IMAGE_COUNT_TOTAL: settings.quota_image_count_total,
                usage.IMAGE_COUNT_UPLOADING: settings.quota_image_count_uploading}
    return quotas.effective_limits(defaults, stored.overrides)


def _require_admin(ctx: RequestContext, project_id: str) -> None:
    # Glance's `context_is_admin` rule, so a deployment's policy file decides who is admin.
    if not policy.allowed(ctx, "context_is_admin", {"project_id": project_id,
                                                    "owner": project_id}):
        raise Forbidden("Only admins may see or set a project's quotas.")
