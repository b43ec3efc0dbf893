"""Which images a list shows, in what order, and which index ranges hold them: pure
functions over a ListQuery (docs/listing.md)."""
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


# Sorts an index serves (one key; Glance breaks ties by created_at, then id, same direction).
INDEXED_SORTS = ("created_at", "name", "updated_at", "size", "status")
# Filters whose values become a key-range prefix, when the sort is theirs or created_at.
_PREFIX_FILTERS = ("name", "status")
# Ends an encoded value inside an order key: below every printable character, so "a" sorts
# before "a b" as it should.
_SEPARATOR = "\x01"
_HIGHEST = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Source:
    """One index to read candidates from: a project's images, a visibility, shares with a
    project in a member status, or (admins) every image."""

    kind: str  # "owner" | "visibility" | "shared" | "all"
    key: str = ""
    member_status: str = ""


@dataclass(frozen=True, slots=True)
class Scan:
    """One key range to read: the images of `source` in the index ordered by `index`
    (an INDEXED_SORTS field) whose order key starts with `prefix`."""

    source: Source
    index: str
    prefix: str = ""

    def bounds(self, after: str | None, descending: bool) -> tuple[str | None, str | None]:
        """The (lowest, highest) order keys to read, inclusive; `after` (a marker's key)
        itself is excluded by the reader."""
        low, high = (self.prefix, self.prefix + _HIGHEST) if self.prefix else (None, None)
        if after is not None and descending:
            high = after if high is None else min(high, after)
        elif after is not None:
            low = after if low is None else max(low, after)
        return low, high


@dataclass(frozen=True, slots=True)
class Plan:
    """How to read one list: key ranges merged in `order` (an INDEXED_SORTS field)."""

    scans: tuple[Scan, ...]
    order: str
    descending: bool
    hidden: bool  # read the hidden partitions (os_hidden=true) instead of the shown ones


def plan(ctx: RequestContext, query: ListQuery) -> Plan | None:
    """The key ranges holding every image the query can show, or None when no index has
    its order (several sort keys, or id/container_format/disk_format)."""
    if len(query.sort) != 1 or query.sort[0][0] not in INDEXED_SORTS:
        return None
    order, direction = query.sort[0]
    index, prefixes = order, ("",)
    for flt in query.filters:
        if flt.field in _PREFIX_FILTERS and order in (flt.field, "created_at"):
            index, prefixes = flt.field, tuple(_encode(flt.field, v) + _SEPARATOR
                                               for v in flt.values)
            break
    scans = tuple(Scan(source, index if source.kind != "shared" else "created_at",
                       prefix if source.kind != "shared" else "")
                  for source in _narrowed(ctx, query) for prefix in
                  (prefixes if source.kind != "shared" else ("",)))
    return Plan(scans, order, direction == "desc", query.os_hidden)


def order_key(order: str, image: Image) -> str:
    """Where the image sits in the index ordered by `order`: the field's value, then
    created_at and id (Glance's tie-breakers)."""
    created = f"{image.created_at}#{image.id}"
    if order == "created_at":
        return created
    return _encode(order, getattr(image, order)) + _SEPARATOR + created


def _encode(order: str, value: Any) -> str:
    if value is None:
        return ""  # before every value, as Glance sorts NULL ascending
    return f"{int(value):020d}" if order == "size" else str(value)


def _narrowed(ctx: RequestContext, query: ListQuery) -> tuple[Source, ...]:
    # `owner=X` names one partition when it is the caller's own or the caller is an admin
    # (public and community lists stay theirs, filtered).
    owners = [f.values for f in query.filters if f.field == "owner"]
    if (owners and len(owners[0]) == 1 and query.visibility not in ("public", "community")
            and (ctx.is_admin or owners[0][0] == ctx.project_id)):
        return (Source("owner", owners[0][0]),)
    return sources(ctx, query)


def read_budget(limit: int) -> int:
    """Images a page may examine before it ends early (its `next` marker continuing where
    it stopped): filters no index serves cost at most this, never the catalog."""
    return 10 * (limit + 1) + 100


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
    """Sort by the query's keys, then by created_at and id in the last key's direction (as
    Glance, and as the indexes order); missing values sort first ascending."""
    result = list(images)
    last = sort[-1][1]
    for key, direction in reversed((*sort, ("created_at", last), ("id", last))):
        result.sort(key=lambda image, k=key: (getattr(image, k) is not None,
                                              getattr(image, k) or 0 if k == "size"
                                              else getattr(image, k) or ""),
                    reverse=direction == "desc")
    return result
