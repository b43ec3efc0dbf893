"""Parsing of image-list query parameters, with Glance's names, defaults and errors."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import Invalid

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
SORT_KEYS = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
             "updated_at")
DEFAULT_SORT = (("created_at", "desc"),)
VISIBILITIES = ("public", "private", "shared", "community", "all")
MEMBER_STATUSES = ("accepted", "pending", "rejected", "all")
TIME_OPERATORS = ("gt", "gte", "eq", "neq", "lt", "lte")
# Fields that take `in:a,b,c`.
IN_FIELDS = ("id", "name", "status", "container_format", "disk_format")
_CONTROL = frozenset({"limit", "marker", "sort", "sort_key", "sort_dir", "visibility",
                      "member_status", "os_hidden", "tag", "size_min", "size_max",
                      "created_at", "updated_at"})


@dataclass(frozen=True, slots=True)
class Filter:
    """`field` must equal one of `values` (exact match on a core field or a property)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TimeFilter:
    """`field` (created_at/updated_at) compared with `op` to an ISO 8601 instant."""

    field: str
    op: str
    instant: datetime


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One page request for `GET /v2/images`."""

    limit: int = DEFAULT_LIMIT
    marker: str | None = None
    visibility: str | None = None
    member_status: str = "accepted"
    os_hidden: bool = False
    tags: tuple[str, ...] = ()
    size_min: int | None = None
    size_max: int | None = None
    filters: tuple[Filter, ...] = ()
    time_filters: tuple[TimeFilter, ...] = ()
    sort: tuple[tuple[str, str], ...] = DEFAULT_SORT


def parse_list_query(params: Mapping[str, Sequence[str]]) -> ListQuery:
    """Read Glance's list parameters; each maps to all of its values.

    Raises:
        Invalid: a value is malformed or out of range.
    """
    one = {k: v[-1] for k, v in params.items() if v}
    visibility = one.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise Invalid(f"Invalid visibility value: {visibility}")
    member_status = one.get("member_status", "accepted")
    if member_status not in MEMBER_STATUSES:
        raise Invalid(f"Invalid status value: {member_status}")
    return ListQuery(
        limit=parse_limit(one.get("limit")), marker=one.get("marker") or None,
        visibility=visibility, member_status=member_status,
        os_hidden=_bool("os_hidden", one.get("os_hidden", "false")),
        tags=tuple(params.get("tag", ())),
        size_min=_size("size_min", one.get("size_min")),
        size_max=_size("size_max", one.get("size_max")),
        filters=tuple(_filter(k, v) for k, v in one.items() if k not in _CONTROL),
        time_filters=tuple(_time_filter(k, one[k]) for k in ("created_at", "updated_at")
                           if k in one),
        sort=_sort(params),
    )


def parse_limit(raw: str | None) -> int:
    """Glance's `limit` parameter: default 25, at most 1000.

    Raises:
        Invalid: not a non-negative integer.
    """
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError as exc:
        raise Invalid("limit param must be an integer") from exc
    if limit < 0:
        raise Invalid("limit param must be positive")
    return min(limit, MAX_LIMIT)


def _bool(name: str, raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise Invalid(f"Invalid value for {name}: '{raw}' (true or false).")
    return raw.lower() == "true"


def _size(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise Invalid(f"Invalid value for {name}: '{raw}' (a number of bytes).")
    return int(raw)


def _filter(field: str, raw: str) -> Filter:
    if field in IN_FIELDS and raw.startswith("in:"):
        values = tuple(v.strip().strip('"') for v in raw[3:].split(","))
        if not all(values):
            raise Invalid(f"Invalid value for {field}: '{raw}'")
        return Filter(field, values)
    return Filter(field, (raw,))


def _time_filter(field: str, raw: str) -> TimeFilter:
    op, _, stamp = raw.partition(":")
    if op not in TIME_OPERATORS:
        op, stamp = "eq", raw
    try:
        instant = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Invalid(f"Invalid value for {field}: '{raw}' ({'|'.join(TIME_OPERATORS)}:"
                      "ISO 8601 time).") from exc
    return TimeFilter(field, op, instant)


def _sort(params: Mapping[str, Sequence[str]]) -> tuple[tuple[str, str], ...]:
    keys, dirs, combined = params.get("sort_key", ()), params.get("sort_dir", ()), params.get("sort")
    if combined and (keys or dirs):
        raise Invalid("The 'sort' parameter cannot be combined with sort_key or sort_dir.")
    if combined:
        pairs = []
        for part in ",".join(combined).split(","):
            key, _, direction = part.strip().partition(":")
            pairs.append((key, direction or "desc"))
    else:
        if len(dirs) > 1 and len(dirs) != len(keys):
            raise Invalid("The number of sort_dir values must be one or match sort_key.")
        keys = keys or ["created_at"]
        pairs = [(k, dirs[i] if len(dirs) > 1 else (dirs[0] if dirs else "desc"))
                 for i, k in enumerate(keys)]
    for key, direction in pairs:
        if key not in SORT_KEYS:
            raise Invalid(f"Invalid sort key: {key}. It should be one of: "
                          f"{', '.join(SORT_KEYS)}.")
        if direction not in ("asc", "desc"):
            raise Invalid(f"Invalid sort direction: {direction}")
    return tuple(pairs)
