"""The import queue and its dead-letter queue, as topology describes them."""
from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib import topology
from chalicelib.config import Settings
from glint_infra.suppressions import accept


def import_queues(scope: Construct, settings: Settings) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, dlq): S3 notifications in; after MAX_RECEIVE_COUNT failures, the DLQ."""
    spec = topology.import_queue(settings)
    # The DLQ has a consumer too (the dead-letter handler): its visibility follows that
    # function's timeout, or Lambda refuses the trigger.
    dlq = encrypted_queue(scope, "ImportDlq", queue_name=spec.dlq_name,
                          visibility_timeout=cdk.Duration.seconds(spec.dlq_visibility_timeout),
                          retention_period=cdk.Duration.seconds(spec.dlq_retention_seconds))
    queue = encrypted_queue(scope, "ImportQueue", queue_name=spec.name,
                            visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout),
                            dead_letter_queue=sqs.DeadLetterQueue(
                                queue=dlq, max_receive_count=spec.max_receive_count))
    return queue, dlq


def encrypted_queue(scope: Construct, construct_id: str, **props: Any) -> sqs.Queue:
    """A queue encrypted with SSE-SQS that refuses requests without TLS.

    SSE-SQS rather than KMS: S3 event notifications cannot be sent to a queue encrypted with
    the AWS-managed KMS key, and a customer-managed key bills at rest.
    """
    queue = sqs.Queue(scope, construct_id, encryption=sqs.QueueEncryption.SQS_MANAGED,
                      enforce_ssl=True, **props)
    accept(queue.node.default_child, checkov={
        "CKV_AWS_27": "Encrypted: SqsManagedSseEnabled (SSE-SQS); this check only counts KMS."})
    return queue
