"""The embedded moto's transactions back up only their own items (glint_local.item_backups)
and still apply all of their writes or none of them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

TABLE = "glint-test-transactions"


@pytest.fixture()
def dynamodb(inprocess_aws) -> Iterator[Any]:
    """A table keyed by partition and sort key, holding `kept` (n=1) and `gone` (n=2)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                              {"AttributeName": "sk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}])
    for sort_key, number in (("kept", "1"), ("gone", "2")):
        client.put_item(TableName=TABLE, Item={**_key(sort_key), "n": {"N": number}})
    yield client
    client.delete_table(TableName=TABLE)


def _key(sort_key: str) -> dict[str, Any]:
    return {"pk": {"S": "p"}, "sk": {"S": sort_key}}


def _items(client: Any) -> dict[str, str]:
    rows = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {row["sk"]["S"]: row["n"]["N"] for row in rows}


def _writes(last_condition: str) -> list[dict[str, Any]]:
    """A new item, an update, a delete, then a put whose condition is `last_condition`."""
    return [
        {"Put": {"TableName": TABLE, "Item": {**_key("new"), "n": {"N": "3"}}}},
        {"Update": {"TableName": TABLE, "Key": _key("kept"), "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": TABLE, "Key": _key("gone")}},
        {"Put": {"TableName": TABLE, "Item": {**_key("other"), "n": {"N": "4"}},
                 "ConditionExpression": last_condition}},
    ]


def test_a_failed_condition_leaves_every_item_as_it_was(dynamodb):
    table = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE]
    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(TransactItems=_writes("attribute_exists(pk)"))
    assert failure.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [reason["Code"] for reason in failure.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert _items(dynamodb) == {"kept": "1", "gone": "2"}
    # Rolled back in place: the table itself was never copied.
    assert get_backend("dynamodb")[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE] is table


def test_a_transaction_whose_conditions_hold_applies_every_write(dynamodb):
    dynamodb.transact_write_items(TransactItems=_writes("attribute_not_exists(pk)"))
    assert _items(dynamodb) == {"kept": "2", "new": "3", "other": "4"}


def test_an_item_named_twice_is_refused_and_nothing_changes(dynamodb):
    twice = _writes("attribute_not_exists(pk)")[:2] + [
        {"Delete": {"TableName": TABLE, "Key": _key("kept")}}]
    with pytest.raises(ClientError) as failure:
        dynamodb.transact_write_items(TransactItems=twice)
    assert failure.value.response["Error"]["Code"] == "ValidationException"
    assert _items(dynamodb) == {"kept": "1", "gone": "2"}
