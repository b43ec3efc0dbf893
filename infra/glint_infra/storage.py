"""The image bucket: private, encrypted, TLS-only, with lifecycle rules for the staging area."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from chalicelib import topology
from chalicelib.blobs.keys import STAGING_PREFIX
from glint_infra.suppressions import NO_CMK, accept


def image_bucket(scope: Construct, name: str, allowed_origins: list[str]) -> s3.Bucket:
    """The bucket that holds staged uploads (staging/) and verified image data (images/)."""
    bucket = s3.Bucket(
        scope, "ImageBucket",
        bucket_name=name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        # Not versioned: objects are written once under fresh keys, so versions would only
        # keep the data of deleted images alive (and billed) after the scrubber removed it.
        versioned=False,
        cors=[s3.CorsRule(
            allowed_methods=[s3.HttpMethods(m) for m in topology.UPLOAD_CORS_METHODS],
            allowed_origins=allowed_origins,
            exposed_headers=list(topology.UPLOAD_CORS_EXPOSED_HEADERS),
            max_age=topology.UPLOAD_CORS_MAX_AGE_SECONDS,
        )],
        lifecycle_rules=[
            s3.LifecycleRule(id="abort-incomplete-multipart", abort_incomplete_multipart_upload_after=
                             cdk.Duration.days(topology.ABORT_INCOMPLETE_MULTIPART_DAYS)),
            s3.LifecycleRule(id="expire-abandoned-staging", prefix=STAGING_PREFIX,
                             expiration=cdk.Duration.days(topology.STAGING_EXPIRATION_DAYS)),
        ],
        # Kept when the stack is deleted; removed (empty) if the stack's first create fails,
        # so that a retry does not find its fixed name taken.
        removal_policy=cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    )
    accept(bucket.node.default_child, checkov={
        "CKV_AWS_18": "Server access logs would need a second bucket billed at rest; use "
                      "CloudTrail S3 data events where an audit trail is required.",
        "CKV_AWS_21": "Versioning is off on purpose: objects are write-once under fresh keys "
                      "and versions would keep deleted images' data (see infra/README.md).",
        "CKV_AWS_145": NO_CMK,
    })
    return bucket


def notify_imports(bucket: s3.Bucket, name: str, queue: sqs.Queue) -> None:
    """S3 tells the import queue about every object created under the staging prefix.

    Declared on the bucket itself rather than through CDK's notifications custom resource (a
    Lambda with s3:PutBucketNotification on every bucket). S3 checks that it may send when
    the bucket is created, so the queue policy comes first and names the bucket by its ARN
    spelled from `name` (a reference to the bucket would be circular).
    """
    queue.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal("s3.amazonaws.com")], actions=["sqs:SendMessage"],
        resources=[queue.queue_arn],
        conditions={"ArnEquals": {"aws:SourceArn": f"arn:{cdk.Aws.PARTITION}:s3:::{name}"},
                    "StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}))
    bucket.node.default_child.add_property_override(
        "NotificationConfiguration.QueueConfigurations",
        [{"Event": event, "Queue": queue.queue_arn,
          "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": topology.NOTIFIED_PREFIX}]}}}
         for event in topology.NOTIFIED_EVENTS])
    bucket.node.default_child.add_resource_dependency(
        queue.node.find_child("Policy").node.default_child)
