"""Which images a list shows and in what order: pure functions over a ListQuery."""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.context import RequestContext
from chalicelib.domain.image import Image, document
from chalicelib.domain.query import ListQuery

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "eq": operator.eq, "neq": operator.ne,
    "lt": operator.lt, "lte": operator.le,
}


@dataclass(frozen=True, slots=True)
class Source:
    """One index to read candidates from: a project's images, a visibility, shares with a
    project in a member status, or (admins) every image."""

    kind: str  # "owner" | "visibility" | "shared" | "all"
    key: str = ""
    member_status: str = ""


def sources(ctx: RequestContext, query: ListQuery) -> tuple[Source, ...]:
    """The indexes that hold every image this caller may see in this visibility mode
    (Glance: admins list everything; others their own, public, accepted shares by default,
    community only when asked)."""
    if ctx.is_admin:
        if query.visibility in ("public", "community"):
            return (Source("visibility", query.visibility),)
        return (Source("all"),)
    own = Source("owner", ctx.project_id)
    shares = _shares(ctx.project_id, query.member_status)
    return {
        None: (own, Source("visibility", "public"), *shares),
        "public": (Source("visibility", "public"),),
        "community": (Source("visibility", "community"),),
        "private": (own,),
        "shared": (own, *shares),
        "all": (own, Source("visibility", "public"), Source("visibility", "community"), *shares),
    }[query.visibility]


def _shares(project_id: str, member_status: str) -> tuple[Source, ...]:
    statuses = ("accepted", "pending", "rejected") if member_status == "all" else (member_status,)
    return tuple(Source("shared", project_id, status) for status in statuses)


def matches(image: Image, query: ListQuery) -> bool:
    """Whether the image passes every filter of the query."""
    if query.visibility not in (None, "all") and image.visibility != query.visibility:
        return False
    if image.os_hidden != query.os_hidden:
        return False
    if not set(query.tags) <= set(image.tags):
        return False
    if query.size_min is not None and (image.size is None or image.size < query.size_min):
        return False
    if query.size_max is not None and (image.size is None or image.size > query.size_max):
        return False
    doc = document(image)
    for flt in query.filters:
        if _as_text(doc.get(flt.field)) not in flt.values:
            return False
    for tf in query.time_filters:
        stamp = datetime.fromisoformat(getattr(image, tf.field).replace("Z", "+00:00"))
        if not _COMPARE[tf.op](stamp.replace(microsecond=0), tf.instant):
            return False
    return True


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def ordered(images: Iterable[Image], sort: tuple[tuple[str, str], ...]) -> list[Image]:
    """Sort by the query's keys, then newest first; missing values sort first ascending."""
    result = list(images)
    for key, direction in reversed((*sort, ("created_at", "desc"), ("id", "desc"))):
        result.sort(key=lambda image, k=key: (getattr(image, k) is not None,
                                              getattr(image, k) or 0 if k == "size"
                                              else getattr(image, k) or ""),
                    reverse=direction == "desc")
    return result
