"""Discovery (`/v2/info/*`): what this deployment offers, and what the caller uses."""
from __future__ import annotations

from chalicelib import stores as configured_stores
from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.quotas import Quota
from chalicelib.domain.stores import Store
from chalicelib.services import quotas as quota_service


def import_methods() -> tuple[str, ...]:
    """The import methods this deployment accepts."""
    return get_settings().import_methods


def stores() -> tuple[Store, ...]:
    """The stores image data can go to (docs/stores.md)."""
    return configured_stores.configured()


def quotas(ctx: RequestContext) -> dict[str, Quota]:
    """The caller's project usage against its limits (one read of its counters)."""
    return quota_service.usage_of(ctx.project_id)
