"""What each function may do, on exactly Glint's resources (nothing else, nothing more).

The API signs URLs with its own credentials, and a presigned URL can do only what its signer
may do. So the API role may PutObject under staging/ (uploads, parts, completing multipart)
and GetObject under images/ (download redirects), though the API itself never reads image
bytes. It may not read staging/, where unverified uploads sit.
"""
from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from chalicelib.blobs.keys import IMAGES_PREFIX, STAGING_PREFIX
from glint_infra.functions import API_FUNCTION, METADEFS_LOADER_FUNCTION, WORKER_FUNCTION

# Transactions need no actions of their own: each item in one needs its item action.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
              "dynamodb:ConditionCheckItem")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
               "dynamodb:BatchWriteItem")


def grant(roles: dict[str, iam.Role], bucket: s3.IBucket, tables: dict[str, dynamodb.CfnTable],
          bus: events.IEventBus, import_queue: sqs.IQueue) -> None:
    """Attach each function's statements to its role (tables keyed by settings field)."""
    staging = bucket.arn_for_objects(f"{STAGING_PREFIX}*")
    images = bucket.arn_for_objects(f"{IMAGES_PREFIX}*")
    publish = _allow(["events:PutEvents"], [bus.event_bus_arn])
    api = [
        _allow([*TABLE_READ, *TABLE_WRITE], _table_arns(tables.values())),
        # Presigned single and part PUTs, Create/CompleteMultipartUpload, ListParts, aborts,
        # small bodies through PUT .../file.
        _allow(["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload",
                "s3:DeleteObject"], [staging]),
        # Presigned download redirects; deleting an image deletes its data.
        _allow(["s3:GetObject", "s3:DeleteObject"], [images]),
        # Deleting an image empties its staging prefix (objects and open multipart uploads).
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [f"{STAGING_PREFIX}*"]}}),
        _allow(["s3:ListBucketMultipartUploads"], [bucket.bucket_arn]),
        # glance-direct imports of data staged earlier: a message beside S3's notifications.
        _allow(["sqs:GetQueueUrl", "sqs:SendMessage"], [import_queue.queue_arn]),
        publish,
    ]
    worker = [
        # Claims, fails and activates images; never lists, deletes or touches other tables.
        _allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
               [tables["images_table"].attr_arn]),
        # Hash and inspect the staged object, copy it (multipart above 256 MiB) to images/.
        _allow(["s3:GetObject", "s3:DeleteObject"], [staging]),
        _allow(["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"], [images]),
        _allow(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                "sqs:ChangeMessageVisibility"], [import_queue.queue_arn]),
        publish,
    ]
    metadefs_loader = [
        _allow([*TABLE_READ, *TABLE_WRITE], _table_arns([tables["metadefs_table"]])),
        publish,
    ]
    for name, statements in ((API_FUNCTION, api), (WORKER_FUNCTION, worker),
                             (METADEFS_LOADER_FUNCTION, metadefs_loader)):
        for statement in statements + _runtime(name):
            roles[name].add_to_principal_policy(statement)


def _table_arns(tables: Iterable[dynamodb.CfnTable]) -> list[str]:
    """Each table and its indexes."""
    return [arn for table in tables for arn in (table.attr_arn, f"{table.attr_arn}/index/*")]


def _runtime(function: str) -> list[iam.PolicyStatement]:
    """Logs into the function's own log group, and X-Ray traces."""
    log_group = (f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
                 f"log-group:/aws/lambda/{cdk.Aws.STACK_NAME}-{function}-*")
    return [
        # CloudFormation names functions <stack>-<logical id>-<suffix>: a pattern, since a
        # reference to the function would be circular (the function depends on this role).
        _allow(["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
        # X-Ray's write actions have no resource-level permissions.
        _allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]),
    ]


def _allow(actions: list[str], resources: list[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=actions, resources=resources)
