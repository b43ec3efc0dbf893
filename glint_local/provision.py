"""Create, on the embedded AWS, every resource the cloud deployment has (from topology)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib import aws, topology
from chalicelib.config import Settings
from chalicelib.db.models import bound
from chalicelib.domain.stores import Store
from glint_local.pump import queue_arn


@dataclass(frozen=True, slots=True)
class Provisioned:
    """What the runtime needs to know about the resources it created."""

    queue_urls: dict[str, str]
    dlq_url: str


def provision(settings: Settings, visibility_timeout: int | None = None) -> Provisioned:
    """Bucket, tables with GSIs and TTL, import queue + DLQ, S3 -> SQS notification, bus."""
    s3, sqs = aws.s3(), aws.sqs()
    s3.create_bucket(Bucket=settings.bucket)
    for store in settings.stores:  # the default store's bucket is the image bucket
        if store.bucket != settings.bucket and not store.read_only:
            _create_store_bucket(store, settings.region)
    for model in topology.TABLE_MODELS:
        table = bound(model)
        if not table.exists():
            table.create_table(wait=True)
            table.update_ttl(ignore_update_ttl_errors=False)
    spec = topology.import_queue(settings, visibility_timeout)
    dlq_url = sqs.create_queue(QueueName=spec.dlq_name, Attributes={
        "MessageRetentionPeriod": str(spec.dlq_retention_seconds)})["QueueUrl"]
    dlq_arn = queue_arn(sqs, dlq_url)
    queue_url = sqs.create_queue(QueueName=spec.name, Attributes={
        "VisibilityTimeout": str(spec.visibility_timeout),
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                     "maxReceiveCount": str(spec.max_receive_count)}),
    })["QueueUrl"]
    import_arn = queue_arn(sqs, queue_url)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                       "Action": "sqs:SendMessage", "Resource": import_arn,
                       "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{settings.bucket}"}}}],
    })})
    s3.put_bucket_notification_configuration(Bucket=settings.bucket, NotificationConfiguration={
        "QueueConfigurations": [{
            "QueueArn": import_arn, "Events": list(topology.NOTIFIED_EVENTS),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix",
                                                "Value": topology.NOTIFIED_PREFIX}]}},
        }]})
    aws.events().create_event_bus(Name=settings.event_bus)
    return Provisioned(queue_urls={spec.name: queue_url, spec.dlq_name: dlq_url}, dlq_url=dlq_url)


def allow_upload_page(settings: Settings, origin: str) -> None:
    """Let the upload page served at `origin` PUT parts into the bucket (and nothing else)."""
    aws.s3().put_bucket_cors(Bucket=settings.bucket, CORSConfiguration={
        "CORSRules": [topology.upload_cors_rule([origin])]})


def _create_store_bucket(store: Store, default_region: str) -> None:
    region = store.region or default_region
    where = {} if region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": region}}
    aws.s3(store.region).create_bucket(Bucket=store.bucket, **where)
