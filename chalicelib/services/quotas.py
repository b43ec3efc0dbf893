"""Quota use cases: report usage, the admins' per-project limits (`/v2/quotas/{project_id}`,
a Glint extension) and the per-image bounds. Charging and giving back live below the
services and the pipeline, in lifecycle.quota_holds."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import usage as usage_db
from chalicelib.domain import policy, quotas, usage
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden
from chalicelib.domain.listing import Source
from chalicelib.domain.usage import QUOTA_NAMES
from chalicelib.domain.quotas import ImageLimits, Quota
from chalicelib.lifecycle import quota_holds

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


@dataclass(frozen=True, slots=True)
class Recount:
    """A project's counters as stored and as its image records add up (sizes in bytes)."""

    project_id: str
    counted: dict[str, int]
    recounted: dict[str, int]
    repaired: bool

    @property
    def drift(self) -> dict[str, int]:
        """Counter less records, for each counter that differs."""
        return {name: self.counted[name] - self.recounted[name] for name in QUOTA_NAMES
                if self.counted[name] != self.recounted[name]}


def recount(ctx: RequestContext, project_id: str, repair: bool = True,
            attempts: int = 5) -> Recount:
    """`POST /v2/quotas/{project_id}/recount` (admins): recount the project's usage from its
    image records, report the drift and (with `repair`) correct the counters. The correction
    applies only if no charge or release came in while the records were read; otherwise
    the recount starts over, a few times at most.

    Raises:
        Forbidden: the caller is not an admin.
        Conflict: the counters kept changing while they were recounted.
    """
    _require_admin(ctx, project_id)
    for _ in range(attempts):
        counted = {name: usage_db.read(project_id).counters.get(name, 0)
                   for name in QUOTA_NAMES}
        recounted = usage.recount(image_db.newest_first([Source("owner", project_id)]))
        if counted == recounted or not repair:
            return Recount(project_id, counted, recounted, False)
        if usage_db.correct(project_id, counted, recounted):
            log.warning("quota counters repaired", extra={
                "project": project_id, "counted": counted, "recounted": recounted})
            return Recount(project_id, counted, recounted, True)
    raise Conflict(f"The usage of project {project_id} kept changing while it was "
                   "recounted; retry.")


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
    return ProjectQuotas(project_id, quotas.report(stored.counters, quota_holds.limits_of(project_id, stored)),
                         stored.overrides)


def _require_admin(ctx: RequestContext, project_id: str) -> None:
    # Glance's `context_is_admin` rule, so a deployment's policy file decides who is admin.
    if not policy.allowed(ctx, "context_is_admin", {"project_id": project_id,
                                                    "owner": project_id}):
        raise Forbidden("Only admins may see or set a project's quotas.")
