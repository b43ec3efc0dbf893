"""Writes that go in the same DynamoDB transaction as an image write: the quota counters it
accounts for, and the events it must publish (the outbox). Either all apply or none do."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pynamodb.transactions import TransactWrite

from chalicelib.db import outbox as outbox_db
from chalicelib.db import usage as usage_db
from chalicelib.db.writes import transact
from chalicelib.domain.usage import Deltas


@dataclass(frozen=True, slots=True)
class Along:
    """What goes with one image write: `usage` added to `project_id`'s counters (within
    `limits` when given: a charge), and `events` recorded in the outbox."""

    project_id: str = ""
    usage: Deltas = field(default_factory=dict)
    limits: Mapping[str, int] | None = None
    events: tuple[outbox_db.Entry, ...] = ()

    def __bool__(self) -> bool:
        return any(self.usage.values()) or bool(self.events)


def commit(image_write: Callable[[TransactWrite], None], image_is_put: bool, along: Along,
           stale: Exception) -> None:
    """Run the image write (added by `image_write`) and what goes along in one transaction.

    Raises:
        `stale`: the image write's condition failed.
        QuotaExceeded: a charge would break the project's limits.
    """
    def build(writes: TransactWrite) -> None:
        image_write(writes)
        for entry in along.events:
            outbox_db.add_in(writes, entry)
        usage_db.add_in(writes, along.project_id, along.usage, along.limits)

    failed = transact(build)
    if failed is None:
        return
    # DynamoDB orders a transaction's items: puts (the image, if a put, then the outbox
    # entries, which have no condition), then updates (the image, if an update; the usage).
    image_position = 0 if image_is_put else len(along.events)
    if failed == image_position:
        raise stale
    raise usage_db.over_limit(along.project_id, along.usage, along.limits or {})
