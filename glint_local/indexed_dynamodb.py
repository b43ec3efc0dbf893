"""GSI queries on the embedded moto that cost the page, not the table.

moto keeps no index: every GSI query walks every item of the table, sorts the partition and
only then applies the key condition and the limit, so a page of 20 from an index of 100k
images costs 100k items of Python work. Here each (index, partition) is kept sorted by its
range key (string keys, as all of Glint's are) until the next write to DynamoDB, and a query
is a binary search plus `limit` items. The answers are moto's: same items, same order, same
LastEvaluatedKey, filter expressions applied after the limit; anything else (projections,
numeric range keys, consistent reads) goes to moto's own query."""
from __future__ import annotations

import bisect
import copy
import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# Any write anywhere invalidates every cached partition (reads dominate list-heavy loads).
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items",
           "batch_write_item", "delete_table")
_HIGHEST = "\U0010ffff"
_state = threading.local()
_generation = [0]
_lock = threading.Lock()


def install() -> None:
    """Serve moto's GSI queries from sorted partitions (once per process)."""
    if getattr(Table.query, "indexed", False):
        return
    for name in _WRITES:
        write = getattr(DynamoDBBackend, name)

        @functools.wraps(write)
        def invalidating(*args: Any, _write: Any = write, **kwargs: Any) -> Any:
            try:
                return _write(*args, **kwargs)
            finally:
                with _lock:
                    _generation[0] += 1

        setattr(DynamoDBBackend, name, invalidating)
    original = Table.query

    @functools.wraps(original)
    def query(self: Table, hash_key: Any, range_comparison: str | None, range_objs: list[Any],
              limit: int, exclusive_start_key: dict[str, Any] | None,
              scan_index_forward: bool, projection_expressions: Any, index_name: str | None = None,
              consistent_read: bool = False, filter_expression: Any = None,
              hash_key_conditions: Any = None, range_key_conditions: Any = None,
              **filter_kwargs: Any) -> Any:
        def moto() -> Any:
            return original(self, hash_key, range_comparison, range_objs, limit,
                            exclusive_start_key, scan_index_forward, projection_expressions,
                            index_name, consistent_read, filter_expression, hash_key_conditions,
                            range_key_conditions, **filter_kwargs)

        index = _simple_index(self, index_name)
        if (index is None or consistent_read or filter_kwargs or projection_expressions or hash_key is None or hash_key.type != "S"
                or (range_key_conditions and len(range_key_conditions) > 1)):
            return moto()
        try:
            items, scanned, last_key = _query(
                self, index_name, index, hash_key.value, range_comparison,
                [obj.value for obj in range_objs], limit, exclusive_start_key,
                scan_index_forward)
        except _Unsupported:
            return moto()
        if filter_expression is not None:  # after the limit, as DynamoDB (and moto) do
            items = [item for item in items if filter_expression.expr(item)]
        return items, scanned, last_key

    query.indexed = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


class _Unsupported(Exception):
    """A query this module does not answer: moto's own query does."""


def _query(table: Table, index_name: str, index: tuple[str, str], hash_value: str,
           comparison: str | None, values: list[Any], limit: int | None,
           exclusive_start_key: dict[str, Any] | None, forward: bool) -> Any:
    hash_attr, range_attr = index
    keys, items = _partition(table, index_name, hash_attr, range_attr, hash_value)
    if any(not isinstance(value, str) for value in values):
        raise _Unsupported(comparison)
    low, high = _span(keys, comparison, values)
    if exclusive_start_key:
        start = (exclusive_start_key[range_attr]["S"], *_table_key(table, exclusive_start_key))
        if forward:
            low = max(low, bisect.bisect_right(keys, start))
        else:
            high = min(high, bisect.bisect_left(keys, start))
    span = range(low, high) if forward else range(high - 1, low - 1, -1)
    chosen = [items[i] for i in (span[:limit] if limit else span)]
    last_key = (table._get_last_evaluated_key(chosen[-1], index_name)
                if limit and len(span) > limit else None)
    gsi = table.get_index(index_name)
    return [gsi.project(copy.deepcopy(item)) for item in chosen], len(chosen), last_key


def _simple_index(table: Table, index_name: str | None) -> tuple[str, str] | None:
    """(hash attribute, range attribute) of a GSI with one of each, else None."""
    for index in table.global_indexes if index_name else ():
        if index.name == index_name:
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            return (hashes[0], ranges[0]) if len(hashes) == 1 and len(ranges) == 1 else None
    return None


def _table_key(table: Table, attrs: dict[str, Any]) -> tuple[str, str]:
    """The table's own key as strings: GSI range keys tie-break on it, as in moto."""
    def text(name: str | None) -> str:
        value = attrs.get(name) if name else None
        if value is None:
            return ""
        value = value.value if isinstance(value, DynamoType) else next(iter(value.values()))
        return str(value)
    return text(table.hash_key_attr), text(table.range_key_attr)


def _partition(table: Table, index_name: str, hash_attr: str, range_attr: str,
               hash_value: str) -> tuple[list[tuple[str, str, str]], list[Item]]:
    """The partition's items sorted by (range key, table key), with their sort keys; built
    once per generation of writes (and per table size, which tests change directly)."""
    caches = _state.__dict__.setdefault("caches", {})
    stamp = (_generation[0], len(table.items))
    cache = caches.get(id(table))
    if cache is None or cache[0] != stamp:
        cache = caches[id(table)] = (stamp, {})
    found = cache[1].get((index_name, hash_value))
    if found is None:
        rows = []
        for item in table.all_items():
            part, order = item.attrs.get(hash_attr), item.attrs.get(range_attr)
            if part is None or order is None or part.type != "S" or part.value != hash_value:
                continue
            if order.type != "S":
                raise _Unsupported("a GSI range key that is not a string")
            rows.append(((order.value, *_table_key(table, item.attrs)), item))
        rows.sort(key=lambda row: row[0])
        found = cache[1][(index_name, hash_value)] = ([k for k, _ in rows], [i for _, i in rows])
    return found


def _span(keys: list[tuple[str, str, str]], comparison: str | None,
          values: list[str]) -> tuple[int, int]:
    """The [low, high) positions whose range key satisfies the key condition."""
    def left(value: str) -> int:
        return bisect.bisect_left(keys, (value,))

    if comparison is None:
        return 0, len(keys)
    op = comparison.upper()
    if op in ("EQ", "="):
        return left(values[0]), bisect.bisect_left(keys, (values[0], _HIGHEST))
    if op in ("LT", "<"):
        return 0, left(values[0])
    if op in ("LE", "<="):
        return 0, bisect.bisect_left(keys, (values[0], _HIGHEST))
    if op in ("GT", ">"):
        return bisect.bisect_left(keys, (values[0], _HIGHEST)), len(keys)
    if op in ("GE", ">="):
        return left(values[0]), len(keys)
    if op == "BETWEEN":
        return left(values[0]), bisect.bisect_left(keys, (values[1], _HIGHEST))
    if op == "BEGINS_WITH":
        return left(values[0]), left(values[0] + _HIGHEST)
    raise _Unsupported(comparison)
