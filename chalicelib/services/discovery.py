"""Discovery (`/v2/info/*`): what this deployment offers, and what the caller uses."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain import usage
from chalicelib.domain.context import RequestContext
from chalicelib.pipeline.run import DEFAULT_STORE


@dataclass(frozen=True, slots=True)
class Store:
    """One place image data is kept (today: the deployment's bucket)."""

    id: str
    description: str
    default: bool


@dataclass(frozen=True, slots=True)
class Quota:
    """One limit and how much of it the caller uses (-1: unlimited)."""

    limit: int
    usage: int


def import_methods() -> tuple[str, ...]:
    """The import methods this deployment accepts."""
    return get_settings().import_methods


def stores() -> list[Store]:
    """The stores image data can go to."""
    return [Store(id=DEFAULT_STORE, description="Image data in this deployment's S3 bucket.",
                  default=True)]


def quotas(ctx: RequestContext) -> dict[str, Quota]:
    """The caller's project usage against its limits (reads every image the project owns)."""
    settings = get_settings()
    limits = {usage.IMAGE_SIZE_TOTAL: settings.quota_image_size_total_mib,
              usage.IMAGE_STAGE_TOTAL: settings.quota_image_stage_total_mib,
              usage.IMAGE_COUNT_TOTAL: settings.quota_image_count_total,
              usage.IMAGE_COUNT_UPLOADING: settings.quota_image_count_uploading}
    used = usage.project_usage(image_db.owned(ctx.project_id))
    return {name: Quota(limit=limit, usage=used[name]) for name, limit in limits.items()}
