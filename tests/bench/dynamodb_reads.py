"""Count what an API call costs in DynamoDB: calls, items read and consumed capacity, from
botocore's event hooks on every client created while counting (ReturnConsumedCapacity is
added to each request that takes it)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
import pytest

from chalicelib import aws
from chalicelib.db.models import ALL_MODELS

_TAKES_CAPACITY = {"GetItem", "Query", "Scan", "BatchGetItem", "PutItem", "UpdateItem",
                   "DeleteItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"}
_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


@dataclass
class Cost:
    """DynamoDB's bill for what ran between two readings."""

    calls: Counter = field(default_factory=Counter)
    items_read: int = 0
    capacity: float = 0.0

    @property
    def reads(self) -> int:
        """Read requests (GetItem, Query, BatchGetItem...)."""
        return sum(n for name, n in self.calls.items() if name in _READS)

    def summary(self) -> str:
        calls = ", ".join(f"{name} {n}" for name, n in sorted(self.calls.items()))
        return f"{self.items_read:5d} items read, {self.capacity:5.1f} units  ({calls})"


class DynamoReads:
    """The running total; `measure()` gives the cost of one block."""

    def __init__(self) -> None:
        self.total = Cost()

    @contextmanager
    def measure(self) -> Iterator[Cost]:
        before = Cost(Counter(self.total.calls), self.total.items_read, self.total.capacity)
        cost = Cost()
        yield cost
        cost.calls = self.total.calls - before.calls
        cost.items_read = self.total.items_read - before.items_read
        cost.capacity = self.total.capacity - before.capacity

    def ask_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in _TAKES_CAPACITY:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.total.calls[model.name] += 1
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.total.capacity += float(entry.get("CapacityUnits", 0))
        if model.name in ("Query", "Scan"):
            self.total.items_read += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.total.items_read += 1 if "Item" in parsed else 0
        elif model.name == "BatchGetItem":
            self.total.items_read += sum(len(v) for v in parsed.get("Responses", {}).values())


def install(monkeypatch: pytest.MonkeyPatch) -> DynamoReads:
    """Count every DynamoDB call of this process's clients from now on."""
    reads = DynamoReads()
    create_client = botocore.session.Session.create_client

    def counting_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("provide-client-params.dynamodb.*", reads.ask_capacity)
            client.meta.events.register("after-call.dynamodb.*", reads.record)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", counting_client)
    for model in ALL_MODELS:  # made again, with the hooks
        model._connection = None
    aws.reset()
    return reads
