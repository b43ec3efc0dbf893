"""The event outbox: an event is recorded in the same transaction as the change it reports,
published after it, and removed once EventBridge accepted it; the reaper publishes what a
crash left behind. Entries keep their event id, so a repeat can be recognised downstream."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.transactions import TransactWrite

from chalicelib.db.models import OutboxModel, bound

_PARTITION = "outbox"
_KEY_PREFIX = "outbox-"
# Safety net only: an entry is removed once published, or re-published by the reaper.
_KEEP = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event waiting to be published."""

    event_id: str
    name: str
    detail: dict[str, Any] = field(default_factory=dict)
    recorded_at: str = ""


def add_in(writes: TransactWrite, entry: Entry) -> None:
    """Record `entry` as part of a transaction (the change it reports)."""
    writes.save(_to_item(entry))


def put(entry: Entry) -> None:
    """Record `entry` on its own (before a change that is not a transaction)."""
    _to_item(entry).save()


def remove(event_id: str) -> None:
    """Forget a published entry (absent is fine)."""
    bound(OutboxModel)(_KEY_PREFIX + event_id).delete()


def waiting(recorded_before: str) -> Iterator[Entry]:
    """Entries recorded before `recorded_before` and not yet removed, oldest first."""
    index = bound(OutboxModel).pending
    for item in index.query(_PARTITION, range_key_condition=OutboxModel.updated_at
                            < recorded_before):
        yield Entry(item.id.removeprefix(_KEY_PREFIX), item.name, dict(item.detail),
                    item.updated_at)


def _to_item(entry: Entry) -> OutboxModel:
    return bound(OutboxModel)(_KEY_PREFIX + entry.event_id, name=entry.name,
                              detail=entry.detail, unfinished=_PARTITION,
                              updated_at=entry.recorded_at,
                              expires_at=datetime.now(timezone.utc) + _KEEP)
