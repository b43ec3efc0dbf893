"""DynamoDB transactions on the embedded moto at the cost of their own items, not their tables.

Before a TransactWriteItems, moto backs up every table it touches (a deep copy of all the
table's items) so it can roll back if a condition fails; with the images table that copy is
most of an image create's time, and it grows with the catalog. Here the backup is the
transaction's own items, each as it was, put back on any failure. Everything else is moto's
own transaction: the same checks in the same order, the same errors. The backup, the writes
and a rollback all happen under `WRITE_LOCK` (every DynamoDB write holds it), so no other
write lands in between. A table with a stream keeps moto's whole-table backup: its stream
records roll back with it."""
from __future__ import annotations

import copy
import functools
import threading
from dataclasses import dataclass
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# DynamoDB applies each write atomically; moto's DynamoDB writes take this lock to do the
# same (reentrant: a transaction calls the single-item writes).
WRITE_LOCK = threading.RLock()
_WRITES = frozenset({"Put", "Update", "Delete"})


@dataclass(frozen=True, slots=True)
class _Backup:
    """One item of a transaction as it was before (None: it did not exist)."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    item: Item | None

    def restore(self) -> None:
        items: Any = self.table.items
        if self.range_key is not None:
            items = items[self.hash_key]
            key = self.range_key
        else:
            key = self.hash_key
        if self.item is None:
            items.pop(key, None)
        else:
            items[key] = self.item


class _TablesKeptInPlace:
    """Stands for the `copy` module inside moto's DynamoDB backend, whose only table copy is
    a transaction's backup: a table without a stream is its own "copy" there (its items are
    backed up one by one instead); everything else is copied as usual."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and value.stream_shard is None:
            return value
        return copy.deepcopy(value, memo)


def install() -> None:
    """Back up moto's transactions item by item (once per process)."""
    original = DynamoDBBackend.transact_write_items
    if getattr(original, "item_backups", False):
        return
    dynamodb_models.copy = _TablesKeptInPlace()  # type: ignore[attr-defined]

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]],
                             ) -> None:
        with WRITE_LOCK:
            backups = [backup for write in transact_items
                       if (backup := _backup(self, write)) is not None]
            try:
                return original(self, transact_items)
            except Exception:
                # Last first: an item named twice (which moto refuses) gets its first state.
                for backup in reversed(backups):
                    backup.restore()
                raise

    transact_write_items.item_backups = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _backup(backend: DynamoDBBackend, write: dict[str, Any]) -> _Backup | None:
    """The item `write` changes, as it is now; None for a write that changes nothing (a
    condition check, one moto refuses before it writes) or a table moto backs up whole."""
    try:
        (kind, operation), = write.items()
        table = backend.tables[operation["TableName"]]
        key = operation["Item"] if kind == "Put" else operation["Key"]
        hash_key, range_key = backend.get_keys_value(table, key)
    except (ValueError, KeyError, TypeError, AttributeError, MockValidationException):
        return None
    if kind not in _WRITES or table.stream_shard is not None:
        return None
    return _Backup(table, hash_key, range_key,
                   copy.deepcopy(table.get_item(hash_key, range_key)))
