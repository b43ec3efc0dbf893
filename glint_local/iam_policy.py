"""What IAM would check for one AWS call, and whether a role's statements allow it.

moto enforces actions, but matches resources only for some services and evaluates no
conditions (see docs/testing.md); this check covers the rest: S3 key prefixes, table and
index ARNs, queue and bus ARNs, and the `s3:prefix` condition on listings."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from glint_local.stack import ACCOUNT, Statement

# S3 operations on one object -> the IAM action they need on `bucket/key`.
_S3_OBJECT_ACTIONS = {
    "PutObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject", "UploadPartCopy": "s3:PutObject",
    "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
}
# S3 operations on a bucket -> the IAM action (their Prefix is the `s3:prefix` condition key).
_S3_BUCKET_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}
# Batch operations are authorized as their single-item action.
_SQS_BATCHES = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
                "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
_TRANSACT_ITEMS = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem",
                   "Update": "UpdateItem", "Delete": "DeleteItem", "Get": "GetItem"}


@dataclass(frozen=True, slots=True)
class Need:
    """One permission a call needs: an action on a resource, with its condition keys."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}"


def needs(service: str, operation: str, params: Mapping[str, Any], region: str) -> list[Need]:
    """The permissions IAM checks for `operation` of `service` (botocore's names) with
    these API parameters."""
    if service == "s3":
        return _s3(operation, params)
    if service == "dynamodb":
        return _dynamodb(operation, params, region)
    if service == "sqs":
        return [Need(f"sqs:{_SQS_BATCHES.get(operation, operation)}", _queue_arn(params, region))]
    if service == "events" and operation == "PutEvents":
        return [Need("events:PutEvents", _bus_arn(entry.get("EventBusName", "default"), region))
                for entry in params.get("Entries", [])]
    if service == "secretsmanager" and "SecretId" in params:
        secret = params["SecretId"]
        return [Need(f"secretsmanager:{operation}", secret if secret.startswith("arn:") else
                     f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{secret}-??????")]
    return [Need(f"{service}:{operation}", "*")]


def allows(statements: Iterable[Statement], need: Need) -> bool:
    """IAM's evaluation for one identity policy: an explicit Deny wins, else any Allow."""
    verdicts = {s["Effect"] for s in statements if _applies(s, need)}
    return "Allow" in verdicts and "Deny" not in verdicts


def _applies(statement: Statement, need: Need) -> bool:
    return (_any_matches(statement["Action"], need.action, ignore_case=True)
            and _any_matches(statement["Resource"], need.resource)
            and _conditions_hold(statement.get("Condition", {}), need.context))


def _any_matches(patterns: str | list[str], value: str, ignore_case: bool = False) -> bool:
    flags = re.IGNORECASE if ignore_case else 0
    return any(re.fullmatch(_wildcard(p), value, flags) for p in
               ([patterns] if isinstance(patterns, str) else patterns))


def _wildcard(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]],
                     context: Mapping[str, str]) -> bool:
    """StringEquals/StringLike/ArnEquals/ArnLike; a key the call does not carry fails."""
    for operator, tests in conditions.items():
        like = operator in ("StringLike", "ArnLike", "ArnEquals")
        if operator not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"):
            return False  # not modelled: refuse rather than allow too much
        for key, expected in tests.items():
            value = context.get(key)
            options = [expected] if isinstance(expected, str) else expected
            if value is None or not any(
                    re.fullmatch(_wildcard(o), value) if like else o == value for o in options):
                return False
    return True


def _s3(operation: str, params: Mapping[str, Any]) -> list[Need]:
    bucket = params.get("Bucket", "*")
    if operation in _S3_BUCKET_ACTIONS:
        return [Need(_S3_BUCKET_ACTIONS[operation], f"arn:aws:s3:::{bucket}",
                     {"s3:prefix": params.get("Prefix", "")})]
    if operation == "DeleteObjects":
        return [Need("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{item['Key']}")
                for item in params.get("Delete", {}).get("Objects", [])]
    found = [Need(_S3_OBJECT_ACTIONS.get(operation, f"s3:{operation}"),
                  f"arn:aws:s3:::{bucket}/{params['Key']}" if "Key" in params
                  else f"arn:aws:s3:::{bucket}")]
    if "CopySource" in params:
        found.append(Need("s3:GetObject", f"arn:aws:s3:::{_copy_source(params['CopySource'])}"))
    return found


def _copy_source(source: str | Mapping[str, str]) -> str:
    if isinstance(source, Mapping):
        return f"{source['Bucket']}/{source['Key']}"
    return unquote(source.lstrip("/").split("?versionId=")[0])


def _dynamodb(operation: str, params: Mapping[str, Any], region: str) -> list[Need]:
    def table(name: str, index: str | None = None) -> str:
        arn = name if name.startswith("arn:") else \
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
        return f"{arn}/index/{index}" if index else arn

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Need(f"dynamodb:{operation}", table(name)) for name in params["RequestItems"]]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [Need(f"dynamodb:{_TRANSACT_ITEMS[kind]}", table(body["TableName"]))
                for item in params["TransactItems"] for kind, body in item.items()]
    return [Need(f"dynamodb:{operation}", table(params.get("TableName", "*"),
                                                params.get("IndexName")))]


def _queue_arn(params: Mapping[str, Any], region: str) -> str:
    if "QueueUrl" in params:
        account, name = urlparse(params["QueueUrl"]).path.strip("/").split("/")[-2:]
        return f"arn:aws:sqs:{region}:{account}:{name}"
    if "QueueName" in params:
        return f"arn:aws:sqs:{region}:{ACCOUNT}:{params['QueueName']}"
    return "*"


def _bus_arn(bus: str, region: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{bus}"
