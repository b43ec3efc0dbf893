"""The import queue and its dead-letter queue, as topology describes them."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib import topology
from chalicelib.config import Settings


def import_queues(scope: Construct, settings: Settings) -> tuple[sqs.Queue, sqs.Queue]:
    """(queue, dlq): S3 notifications in; after MAX_RECEIVE_COUNT failures, the DLQ."""
    spec = topology.import_queue(settings)
    dlq = sqs.Queue(scope, "ImportDlq", queue_name=spec.dlq_name,
                    encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                    retention_period=cdk.Duration.seconds(spec.dlq_retention_seconds))
    queue = sqs.Queue(scope, "ImportQueue", queue_name=spec.name,
                      encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                      visibility_timeout=cdk.Duration.seconds(spec.visibility_timeout),
                      dead_letter_queue=sqs.DeadLetterQueue(
                          queue=dlq, max_receive_count=spec.max_receive_count))
    return queue, dlq
