"""The family index: each family's resolvable images, newest first (a sparse GSI)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.db.models import ImageModel, bound

@dataclass(frozen=True, slots=True)
class Candidate:
    """What the index holds of an image: enough to skip those the caller cannot see."""

    id: str
    owner: str
    visibility: str


# Images one resolution may look at: the newest is almost always the answer (one page),
# but a caller who sees few of a family's images must not cost unbounded reads.
PAGE_SIZE = 10
MAX_CANDIDATES = 100


def newest_first(family: str) -> Iterator[Candidate]:
    """The family's resolvable images, newest first, at most MAX_CANDIDATES of them, read a
    page of PAGE_SIZE at a time as the caller consumes them."""
    index = bound(ImageModel).by_family
    for item in index.query(family, scan_index_forward=False, page_size=PAGE_SIZE,
                            limit=MAX_CANDIDATES):
        yield Candidate(item.id, item.owner, item.visibility)
