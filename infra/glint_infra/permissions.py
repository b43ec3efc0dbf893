"""What each function may do, on exactly Glint's resources (nothing else, nothing more).

The API signs URLs with its own credentials, and a presigned URL can do only what its signer
may do. So the API role may PutObject under staging/ (uploads, parts, completing multipart)
and GetObject under images/ (download redirects), though the API itself never reads image
bytes. It may not read staging/, where unverified uploads sit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from chalicelib.blobs.keys import IMAGES_PREFIX, STAGING_PREFIX
from glint_infra import functions as fn

# Transactions need no actions of their own: each item in one needs its item action.
TABLE_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
              "dynamodb:ConditionCheckItem")
TABLE_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
               "dynamodb:BatchWriteItem")
# What the pipeline does to an image record: read it, claim it, fail or activate it.
IMAGE_RECORD = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
# Giving back or settling a project's quota usage: atomic ADDs to its counters, never reads.
USAGE_COUNTERS = ("dynamodb:UpdateItem",)
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
           "sqs:ChangeMessageVisibility")
# Asking the worker to import data staged earlier (glance-direct, or a lost S3 event).
REQUEST_IMPORT = ("sqs:GetQueueUrl", "sqs:SendMessage")
# Failing an import discards what was staged, multipart parts included.
DISCARD_STAGED = ("s3:DeleteObject", "s3:AbortMultipartUpload")


@dataclass(frozen=True, slots=True)
class Resources:
    """The resources the functions act on; tables keyed by the settings field naming them."""

    bucket: s3.IBucket
    tables: dict[str, dynamodb.CfnTable]
    bus: events.IEventBus
    import_queue: sqs.IQueue
    dlq: sqs.IQueue
    # GLINT_KEYSTONE_SECRET_ID, when Keystone's service credentials live in Secrets Manager.
    keystone_secret: str | None = None


def grant(roles: dict[str, iam.Role], on: Resources) -> None:
    """Attach each function's statements (plus logs and X-Ray) to its own role."""
    for name, statements in policies(on).items():
        for statement in statements + _runtime(name):
            roles[name].add_to_principal_policy(statement)


def policies(on: Resources) -> dict[str, list[iam.PolicyStatement]]:
    """Function logical id -> what it may do."""
    staging = on.bucket.arn_for_objects(f"{STAGING_PREFIX}*")
    images = on.bucket.arn_for_objects(f"{IMAGES_PREFIX}*")
    image_table = [on.tables["images_table"].attr_arn]
    publish = _allow(["events:PutEvents"], [on.bus.event_bus_arn])
    count_usage = _allow(USAGE_COUNTERS, [on.tables["usage_table"].attr_arn])
    # The import's task record: processing, progress, success or failure.
    track_task = _allow(IMAGE_RECORD, [on.tables["tasks_table"].attr_arn])
    request_import = _allow(REQUEST_IMPORT, [on.import_queue.queue_arn])
    # Validating tokens with Keystone may need the service's credentials.
    authenticate = [_allow(["secretsmanager:GetSecretValue"], [_secret_arn(on.keystone_secret)])
                    ] if on.keystone_secret else []
    return {
        fn.AUTHORIZER_FUNCTION: authenticate,
        fn.API_FUNCTION: [*authenticate,
            _allow(TABLE_READ + TABLE_WRITE, _with_indexes(on.tables.values())),
            # Presigned single and part PUTs, Create/CompleteMultipartUpload, ListParts,
            # aborts, small bodies through PUT .../file.
            _allow(("s3:PutObject", "s3:ListMultipartUploadParts") + DISCARD_STAGED, [staging]),
            # Presigned download redirects; deleting an image deletes its data.
            _allow(("s3:GetObject", "s3:DeleteObject"), [images]),
            # Deleting an image empties its staging prefix (objects, open multipart uploads).
            _list_staging(on.bucket),
            request_import, publish,
        ],
        fn.WORKER_FUNCTION: [
            _allow(IMAGE_RECORD, image_table), count_usage, track_task,
            # Hash and inspect the staged object, then copy it (multipart above 256 MiB);
            # web-download streams the fetched bytes into staging by multipart upload.
            _allow(("s3:GetObject", "s3:PutObject") + DISCARD_STAGED, [staging]),
            _allow(("s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"), [images]),
            _allow(CONSUME, [on.import_queue.queue_arn]),
            publish,
        ],
        fn.DEAD_LETTERS_FUNCTION: [
            _allow(IMAGE_RECORD, image_table), count_usage, track_task,
            _allow(DISCARD_STAGED, [staging]),
            _allow(CONSUME, [on.dlq.queue_arn]),
            publish,
        ],
        fn.REAPER_FUNCTION: [
            # Finds in-flight images through their index, then fails them one by one.
            _allow(IMAGE_RECORD + ("dynamodb:Query",), _with_indexes([on.tables["images_table"]])),
            count_usage,
            # Fails tasks whose import went away (found through the unfinished-tasks index).
            _allow(IMAGE_RECORD + ("dynamodb:Query",), _with_indexes([on.tables["tasks_table"]])),
            # Was an abandoned upload's data staged after all? (a listing of its key)
            _allow(DISCARD_STAGED, [staging]), _list_staging(on.bucket),
            request_import, publish,
        ],
        fn.SCRUBBER_FUNCTION: [
            # Finds pending_delete images through their index; purges them and their members.
            _allow(IMAGE_RECORD + ("dynamodb:Query",), _with_indexes([on.tables["images_table"]])),
            count_usage,
            _allow(("dynamodb:Query", "dynamodb:BatchWriteItem"),
                   [on.tables["members_table"].attr_arn]),
            _allow(("s3:DeleteObject",), [images]),
            _allow(DISCARD_STAGED, [staging]), _list_staging(on.bucket),
            publish,
        ],
        fn.METADEFS_LOADER_FUNCTION: [
            _allow(TABLE_READ + TABLE_WRITE, _with_indexes([on.tables["metadefs_table"]])),
            publish,
        ],
    }


def _secret_arn(secret: str) -> str:
    """An ARN as given; a name matches the random suffix Secrets Manager appends."""
    if secret.startswith("arn:"):
        return secret
    return (f"arn:{cdk.Aws.PARTITION}:secretsmanager:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
            f"secret:{secret}-??????")


def _list_staging(bucket: s3.IBucket) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["s3:ListBucket", "s3:ListBucketMultipartUploads"], resources=[bucket.bucket_arn],
        conditions={"StringLike": {"s3:prefix": [f"{STAGING_PREFIX}*"]}})


def _with_indexes(tables: Iterable[dynamodb.CfnTable]) -> list[str]:
    return [arn for table in tables for arn in (table.attr_arn, f"{table.attr_arn}/index/*")]


def _runtime(function: str) -> list[iam.PolicyStatement]:
    """Logs into the function's own log group, and X-Ray traces."""
    log_group = (f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
                 f"log-group:/aws/lambda/{cdk.Aws.STACK_NAME}-{function}-*")
    return [
        # CloudFormation names functions <stack>-<logical id>-<suffix>: a pattern, since a
        # reference to the function would be circular (the function depends on this role).
        _allow(("logs:CreateLogStream", "logs:PutLogEvents"), [f"{log_group}:*"]),
        # X-Ray's write actions have no resource-level permissions.
        _allow(("xray:PutTraceSegments", "xray:PutTelemetryRecords"), ["*"]),
    ]


def _allow(actions: Iterable[str], resources: list[str]) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=list(actions), resources=resources)
