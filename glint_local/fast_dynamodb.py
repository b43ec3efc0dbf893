"""moto's DynamoDB item answers, serialized as the plain JSON they already are.

moto 5.2 walks botocore's output shape for every value of every response; for the item
operations (whose results are already DynamoDB's wire JSON) that walk costs more than the
operation itself, about 2 ms per item returned. Encoding those results with json.dumps gives
the same body for a fraction of the cost; anything else (errors, binary values, the table
operations) still goes through moto's serializer."""
from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.responses import DynamoResult

_ITEM_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "PutItem",
                              "UpdateItem", "DeleteItem", "BatchWriteItem",
                              "TransactWriteItems", "TransactGetItems"})
_CONTENT_TYPE = {"Content-Type": "application/x-amz-json-1.0"}


def install() -> None:
    """Switch moto's DynamoDB item answers to json.dumps (once per process)."""
    original = DynamoResult.execute_result
    if getattr(original, "plain_json", False):
        return

    def execute_result(self: DynamoResult, context: Any) -> Any:
        if context.operation_model.name in _ITEM_OPERATIONS:
            try:
                return 200, dict(_CONTENT_TYPE), json.dumps(self.result)
            except TypeError:  # bytes (binary attributes): moto base64-encodes them
                pass
        return original(self, context)

    execute_result.plain_json = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
