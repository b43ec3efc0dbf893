"""List queries over the metadefs catalog: parsing Glance's parameters, sorting and paging."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.domain.query import DEFAULT_LIMIT, parse_limit

T = TypeVar("T")
NAMESPACE_SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "owner",
                       "visibility")
CHILD_SORT_KEYS = ("created_at", "updated_at", "name")


@dataclass(frozen=True, slots=True)
class MetadefQuery:
    """One page request: filters, order, and at most `limit` entries after `marker`."""

    limit: int | None = None
    marker: str | None = None
    sort_key: str = "created_at"
    sort_dir: str = "desc"
    visibility: str | None = None
    resource_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """Entries of one page; `next_marker` is None on the last page."""

    entries: list[Any]
    next_marker: str | None


def parse_namespace_query(params: Mapping[str, str]) -> MetadefQuery:
    """Read a namespace list query (limit defaults to 25, capped at 1000, as Glance's).

    Raises:
        Invalid: a bad limit, sort key, sort direction or visibility.
    """
    visibility = params.get("visibility") or None
    if visibility not in (None, "public", "private"):
        raise Invalid(f"Invalid visibility value: {visibility}")
    resource_types = tuple(r.strip() for r in (params.get("resource_types") or "").split(",")
                           if r.strip())
    return _parse(params, NAMESPACE_SORT_KEYS, DEFAULT_LIMIT, visibility, resource_types)


def parse_child_query(params: Mapping[str, str]) -> MetadefQuery:
    """Read an object or tag list query (no limit unless one is given).

    Raises:
        Invalid: a bad limit, sort key or sort direction.
    """
    return _parse(params, CHILD_SORT_KEYS, None, None, ())


def _parse(params: Mapping[str, str], sort_keys: Sequence[str], default_limit: int | None,
           visibility: str | None, resource_types: tuple[str, ...]) -> MetadefQuery:
    sort_key = params.get("sort_key") or "created_at"
    if sort_key not in sort_keys:
        raise Invalid(f"Invalid sort key: {sort_key}. It must be one of: {', '.join(sort_keys)}.")
    sort_dir = params.get("sort_dir") or "desc"
    if sort_dir not in ("asc", "desc"):
        raise Invalid(f"Invalid sort direction: {sort_dir}")
    raw_limit = params.get("limit")
    return MetadefQuery(limit=parse_limit(raw_limit) if raw_limit else default_limit,
                        marker=params.get("marker") or None, sort_key=sort_key,
                        sort_dir=sort_dir, visibility=visibility, resource_types=resource_types)


def paginate(entries: list[T], query: MetadefQuery, name_of: Callable[[T], str]) -> Page:
    """Sort by the query's key (ties by name), then cut the page after the marker.

    Raises:
        NotFound: the marker names no entry in the list (Glance answers 404).
    """
    attribute = query.sort_key if query.sort_key != "name" else None
    ordered = sorted(entries, key=lambda e: (str(getattr(e, attribute) or "") if attribute
                                             else name_of(e), name_of(e)),
                     reverse=query.sort_dir == "desc")
    start = 0
    if query.marker:
        names = [name_of(e) for e in ordered]
        if query.marker not in names:
            raise NotFound(f"Marker {query.marker} could not be found.")
        start = names.index(query.marker) + 1
    end = len(ordered) if query.limit is None else start + query.limit
    page = ordered[start:end]
    more = end < len(ordered) and bool(page)
    return Page(page, name_of(page[-1]) if more else None)
