"""Two hot spots of moto's DynamoDB, made cheap (same answers).

- Answers: moto 5.2 walks botocore's output shape for every value of every response; for
  the item operations (whose results are already DynamoDB's wire JSON) that walk costs more
  than the operation itself, about 2 ms per item returned. Those results are encoded with
  json.dumps; anything else (errors, binary values, the table operations) still goes
  through moto's serializer.
- Comparisons: a query compares and sorts key values of every item of the table (moto keeps
  no index), each comparison casting the value through five type checks. Strings,
  binaries and booleans are their own cast value, returned at once."""
from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoResult

_ITEM_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "PutItem",
                              "UpdateItem", "DeleteItem", "BatchWriteItem",
                              "TransactWriteItems", "TransactGetItems"})
_CONTENT_TYPE = {"Content-Type": "application/x-amz-json-1.0"}
_SELF_CAST = frozenset({"S", "B", "BOOL"})


def install() -> None:
    """Switch moto's DynamoDB item answers to json.dumps and its scalar casts to a shortcut
    (once per process)."""
    original = DynamoResult.execute_result
    if getattr(original, "plain_json", False):
        return
    cast = DynamoType.cast_value.fget

    def cast_value(self: DynamoType) -> Any:
        return self.value if self.type in _SELF_CAST else cast(self)

    DynamoType.cast_value = property(cast_value)  # type: ignore[assignment]

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name in _ITEM_OPERATIONS:
            try:
                return 200, dict(_CONTENT_TYPE), json.dumps(self.result)
            except TypeError:  # bytes (binary attributes): moto base64-encodes them
                pass
        return original(self, context)

    execute_result.plain_json = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
