"""Parsing of list-query parameters."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.domain.errors import Invalid

DEFAULT_LIMIT = 25
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ListQuery:
    """One page request: at most `limit` images after the image `marker`."""

    limit: int = DEFAULT_LIMIT
    marker: str | None = None


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """Read `limit` and `marker` as Glance does (limit capped at 1000).

    Raises:
        Invalid: limit is not a non-negative integer.
    """
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError as exc:
            raise Invalid("limit param must be an integer") from exc
        if limit < 0:
            raise Invalid("limit param must be positive")
    return ListQuery(limit=min(limit, MAX_LIMIT), marker=params.get("marker") or None)
