"""Discovery (`/v2/info/*`): what this deployment offers, and what the caller uses."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib import stores as configured_stores
from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.domain.quotas import Quota
from chalicelib.domain.stores import Store
from chalicelib.services import quotas as quota_service


def import_methods() -> tuple[str, ...]:
    """The import methods this deployment accepts (copy-image only with several stores)."""
    methods = get_settings().import_methods
    if configured_stores.multiple():
        return methods
    return tuple(m for m in methods if m != "copy-image")


def stores() -> tuple[Store, ...]:
    """The stores image data can go to (docs/stores.md).

    Raises:
        NotFound: one store only (single-store Glance answers 404 here).
    """
    if not configured_stores.multiple():
        raise NotFound("Multi backend is not supported at this site.")
    return configured_stores.configured()


def check_import_options(body: Mapping[str, Any]) -> None:
    """Single-store Glance refuses `all_stores_must_succeed: false` (nothing to fail apart).

    Raises:
        Invalid: `all_stores_must_succeed` is false and there is one store.
    """
    if body.get("all_stores_must_succeed", True) is False and not configured_stores.multiple():
        raise Invalid("All_stores_must_succeed can only be set with enabled_backends.")


def store_ids() -> tuple[str, ...]:
    """The store ids clients may name (none with one store, as Glance has none then)."""
    if not configured_stores.multiple():
        return ()
    return tuple(s.id for s in configured_stores.configured())


def quotas(ctx: RequestContext) -> dict[str, Quota]:
    """The caller's project usage against its limits (one read of its counters)."""
    return quota_service.usage_of(ctx.project_id)
