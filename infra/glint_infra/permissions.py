"""What each function may do, on exactly Glint's resources (nothing else, nothing more).

The API signs URLs with its own credentials, and a presigned URL can do only what its signer
may do. So the API role may PutObject under staging/ (uploads, parts, completing multipart)
and GetObject under images/ (download redirects). `PUT .../file` verifies small images inline
(GLINT_DIRECT_PUT_MAX_BYTES), as the worker does: for that alone the API reads staging/ and
copies into images/.

Image data may live in several stores (GLINT_STORES, one bucket each): every statement on
images/ covers the images/ prefix of every store's bucket.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from chalicelib.blobs.keys import IMAGES_PREFIX, STAGING_PREFIX, SWEEP_PREFIX
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
    # Setting (GLINT_KEYSTONE_SECRET_ID, ...) -> the secret it names, for its readers.
    secrets: dict[str, str] = field(default_factory=dict)
    # The buckets of the stores other than the default one (which is `bucket`).
    store_buckets: tuple[str, ...] = ()
    # Signing certificates are the secrets named with this prefix (docs/signing.md).
    certificate_prefix: str = ""


def grant(roles: dict[str, iam.Role], on: Resources) -> None:
    """Attach each function's statements (plus logs and X-Ray) to its own role."""
    for name, statements in policies(on).items():
        for statement in statements + _runtime(name):
            roles[name].add_to_principal_policy(statement)


def policies(on: Resources) -> dict[str, list[iam.PolicyStatement]]:
    """Function logical id -> what it may do."""
    staging = on.bucket.arn_for_objects(f"{STAGING_PREFIX}*")
    store_buckets = [f"arn:{cdk.Aws.PARTITION}:s3:::{bucket}" for bucket in on.store_buckets]
    images = [on.bucket.arn_for_objects(f"{IMAGES_PREFIX}*"),
              *(f"{bucket}/{IMAGES_PREFIX}*" for bucket in store_buckets)]
    image_table = [on.tables["images_table"].attr_arn]
    publish = _allow(["events:PutEvents"], [on.bus.event_bus_arn])
    count_usage = _allow(USAGE_COUNTERS, [on.tables["usage_table"].attr_arn])
    # The import's task record (processing, progress, success or failure), and the event
    # outbox entries that live beside tasks: written with a state change, deleted once sent.
    track_task = _allow(IMAGE_RECORD + ("dynamodb:DeleteItem",),
                        [on.tables["tasks_table"].attr_arn])
    # A redelivered or dead-lettered event of an upload that activated its image finds the
    # import's task to finish (tasks by image, an index of the tasks table).
    find_import_task = _allow(("dynamodb:Query",),
                              [f"{on.tables['tasks_table'].attr_arn}/index/*"])
    request_import = _allow(REQUEST_IMPORT, [on.import_queue.queue_arn])
    # Each configured secret, to the functions that read it (and get its setting).
    read_secrets = {name: [_allow(["secretsmanager:GetSecretValue"], [_secret_arn(secret)])
                           for variable, secret in on.secrets.items()
                           if name in fn.SECRET_READERS[variable]]
                    for name in fn.FUNCTIONS}
    # Copies between stores and cleaning up after them (UploadPartCopy above 256 MiB).
    write_copies = _allow(("s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"), images)
    delete_copies = _allow(("s3:DeleteObject",), images)
    # Verifying a signed image's data (the worker, and the API for PUT .../file).
    read_certificates = _allow(["secretsmanager:GetSecretValue"], [
        f"arn:{cdk.Aws.PARTITION}:secretsmanager:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:"
        f"secret:{on.certificate_prefix}*"])
    return {
        fn.AUTHORIZER_FUNCTION: read_secrets[fn.AUTHORIZER_FUNCTION],
        fn.API_FUNCTION: [*read_secrets[fn.API_FUNCTION],
            _allow(TABLE_READ + TABLE_WRITE, _with_indexes(on.tables.values())),
            # Presigned single and part PUTs, Create/CompleteMultipartUpload, ListParts,
            # aborts, small bodies through PUT .../file; PUT .../file then hashes and copies
            # them (HeadObject and CopyObject's source read need GetObject).
            _allow(("s3:GetObject", "s3:PutObject", "s3:ListMultipartUploadParts")
                   + DISCARD_STAGED, [staging]),
            # Presigned download redirects; deleting an image (or one store's copy) deletes
            # its data; PUT .../file copies the verified bytes in.
            _allow(("s3:GetObject", "s3:PutObject", "s3:DeleteObject"), images),
            # Deleting an image empties its staging prefix (objects, open multipart uploads).
            _list_staging(on.bucket),
            request_import, publish, read_certificates,
        ],
        fn.WORKER_FUNCTION: [
            _allow(IMAGE_RECORD, image_table), count_usage, track_task, find_import_task,
            # web-download holds the fetched size against the owner's limits, which it reads
            # first (per-project overrides live on the usage item).
            _allow(("dynamodb:GetItem",), [on.tables["usage_table"].attr_arn]),
            # Hash and inspect the staged object, then copy it (multipart above 256 MiB);
            # web-download streams the fetched bytes into staging by multipart upload.
            _allow(("s3:GetObject", "s3:PutObject") + DISCARD_STAGED, [staging]),
            # copy-image reads an active copy in one store and writes it into another.
            _allow(("s3:GetObject",), images), write_copies,
            _allow(CONSUME, [on.import_queue.queue_arn]),
            publish, read_certificates,
        ],
        fn.DEAD_LETTERS_FUNCTION: [
            _allow(IMAGE_RECORD, image_table), count_usage, track_task, find_import_task,
            _allow(DISCARD_STAGED, [staging]),
            # A copy that failed for good leaves no pending copy behind in its store.
            delete_copies,
            _allow(CONSUME, [on.dlq.queue_arn]),
            publish,
        ],
        fn.REAPER_FUNCTION: [
            # Finds in-flight images through their index, then fails them one by one.
            _allow(IMAGE_RECORD + ("dynamodb:Query",), _with_indexes([on.tables["images_table"]])),
            count_usage,
            # Fails tasks whose import went away (found through the unfinished-tasks index),
            # and re-publishes outbox entries left behind by a crash (then deletes them).
            _allow(IMAGE_RECORD + ("dynamodb:Query", "dynamodb:DeleteItem"),
                   _with_indexes([on.tables["tasks_table"]])),
            # Was an abandoned upload's data staged after all? (a listing of its key)
            _allow(DISCARD_STAGED, [staging]), _list_staging(on.bucket),
            request_import, publish,
        ],
        fn.SCRUBBER_FUNCTION: [
            # Finds pending_delete images through their index; purges them and their members.
            _allow(IMAGE_RECORD + ("dynamodb:Query",), _with_indexes([on.tables["images_table"]])),
            count_usage, track_task,
            _allow(("dynamodb:Query", "dynamodb:BatchWriteItem"),
                   [on.tables["members_table"].attr_arn]),
            delete_copies,
            _allow(DISCARD_STAGED, [staging]), _list_staging(on.bucket),
            publish,
        ],
        fn.SWEEP_FUNCTION: [
            # Lists images/ and staging/ a page at a time (its cursor, under sweep/, says
            # where), reads the owning records, removes what none owns; never reads image bytes.
            _allow(("dynamodb:GetItem",), image_table),
            _list([on.bucket.bucket_arn, *store_buckets], IMAGES_PREFIX, STAGING_PREFIX),
            _allow(("s3:DeleteObject", "s3:AbortMultipartUpload"), [*images, staging]),
            _allow(("s3:GetObject", "s3:PutObject"),
                   [on.bucket.arn_for_objects(f"{SWEEP_PREFIX}*")]),
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
    return _list([bucket.bucket_arn], STAGING_PREFIX)


def _list(buckets: list[str], *prefixes: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["s3:ListBucket", "s3:ListBucketMultipartUploads"], resources=buckets,
        conditions={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}})


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
