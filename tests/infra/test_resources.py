"""The synthesized template declares what the local runtime provisions, from the same source."""
from __future__ import annotations

import os
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from glint_infra import stage

from chalicelib import topology
from chalicelib.config import get_settings
from chalicelib.blobs.keys import STAGING_PREFIX
from chalicelib.events import IMAGE_ACTIVATE
from tests.infra.conftest import PREFIX, ROOT, STAGE


@pytest.fixture(scope="module")
def template(template_json: dict[str, Any]) -> Template:
    return Template.from_json(template_json)


def _logical_id(template: Template, kind: str, **properties: Any) -> str:
    found = template.find_resources(kind, {"Properties": properties})
    assert len(found) == 1, f"expected one {kind} with {properties}, found {list(found)}"
    return next(iter(found))


def test_bucket_encrypted_private_and_owner_enforced(template: Template) -> None:
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketName": f"{PREFIX}-images",
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": Match.absent(),
    })


def test_bucket_policy_denies_requests_without_tls(template: Template) -> None:
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {
        "Statement": Match.array_with([Match.object_like({
            "Effect": "Deny", "Action": "s3:*", "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_bucket_lifecycle_aborts_multipart_and_expires_staging(template: Template) -> None:
    template.has_resource_properties("AWS::S3::Bucket", {"LifecycleConfiguration": {"Rules": [
        Match.object_like({"Status": "Enabled", "AbortIncompleteMultipartUpload": {
            "DaysAfterInitiation": topology.ABORT_INCOMPLETE_MULTIPART_DAYS}}),
        Match.object_like({"Status": "Enabled", "Prefix": STAGING_PREFIX,
                           "ExpirationInDays": topology.STAGING_EXPIRATION_DAYS}),
    ]}})


def test_bucket_cors_is_exactly_what_the_upload_page_needs(template: Template) -> None:
    template.has_resource_properties("AWS::S3::Bucket", {"CorsConfiguration": {"CorsRules": [{
        "AllowedMethods": ["PUT"], "AllowedOrigins": ["*"], "ExposedHeaders": ["ETag"],
        "MaxAge": topology.UPLOAD_CORS_MAX_AGE_SECONDS}]}})


def test_bucket_notifies_import_queue_of_staged_objects(template: Template) -> None:
    queue = _logical_id(template, "AWS::SQS::Queue", QueueName=f"{PREFIX}-imports")
    template.has_resource("AWS::S3::Bucket", {
        "Properties": {"NotificationConfiguration": {"QueueConfigurations": [
            {"Event": event, "Queue": {"Fn::GetAtt": [queue, "Arn"]},
             "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": STAGING_PREFIX}]}}}
            for event in topology.NOTIFIED_EVENTS]}},
        # S3 checks it may send when the notification is created: the policy comes first.
        "DependsOn": [Match.string_like_regexp("^ImportQueuePolicy")],
    })
    template.has_resource_properties("AWS::SQS::QueuePolicy", {
        "Queues": [{"Ref": queue}],
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Allow", "Action": "sqs:SendMessage",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Condition": Match.object_like({"ArnEquals": {"aws:SourceArn": Match.any_value()}}),
        })])}})


def test_no_notification_custom_resource(template: Template) -> None:
    template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_import_queue_redrives_to_dlq(template: Template) -> None:
    dlq = _logical_id(template, "AWS::SQS::Queue", QueueName=f"{PREFIX}-imports-dlq")
    template.has_resource_properties("AWS::SQS::Queue", {
        "QueueName": f"{PREFIX}-imports",
        "VisibilityTimeout": topology.VISIBILITY_PER_TIMEOUT * topology.WORKER_TIMEOUT_SECONDS,
        "SqsManagedSseEnabled": True,
        "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                          "maxReceiveCount": topology.MAX_RECEIVE_COUNT},
    })
    template.has_resource_properties("AWS::SQS::Queue", {
        "QueueName": f"{PREFIX}-imports-dlq",
        "MessageRetentionPeriod": topology.DLQ_RETENTION_SECONDS})


@pytest.mark.parametrize("model", topology.TABLE_MODELS, ids=lambda m: m.__name__)
def test_table_matches_its_model(template: Template, model: Any) -> None:
    schema = model._get_schema()
    ttl = model._ttl_attribute()
    indexes = [{"IndexName": i["index_name"], "KeySchema": i["key_schema"],
                "Projection": i["projection"]} for i in schema["global_secondary_indexes"]]
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "KeySchema": schema["key_schema"],
        "AttributeDefinitions": schema["attribute_definitions"],
        "GlobalSecondaryIndexes": indexes or Match.absent(),
        "BillingMode": model.Meta.billing_mode,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TimeToLiveSpecification": ({"AttributeName": ttl.attr_name, "Enabled": True}
                                    if ttl else Match.absent()),
    })


def test_every_model_has_a_table(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", len(topology.TABLE_MODELS))


def test_images_table_expires_on_expires_at(template: Template) -> None:
    template.has_resource_properties("AWS::DynamoDB::Table", {
        "TableName": f"{PREFIX}-images",
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True}})


def test_event_bus_routes_activations_to_example_queue(template: Template) -> None:
    bus = _logical_id(template, "AWS::Events::EventBus", Name=f"{PREFIX}-events")
    queue = _logical_id(template, "AWS::SQS::Queue", QueueName=f"{PREFIX}-events-activated")
    template.has_resource_properties("AWS::Events::Rule", {
        "EventBusName": {"Ref": bus},
        "EventPattern": {"source": ["glint.images"], "detail-type": [IMAGE_ACTIVATE]},
        "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [queue, "Arn"]}})],
    })


def test_worker_consumes_the_import_queue_with_topology_timeout(template: Template) -> None:
    queue = _logical_id(template, "AWS::SQS::Queue", QueueName=f"{PREFIX}-imports")
    template.has_resource_properties("AWS::Serverless::Function", {
        "Handler": "chalicelib.pipeline.handlers.import_worker",
        "Timeout": topology.WORKER_TIMEOUT_SECONDS,
        "MemorySize": topology.WORKER_MEMORY_MB,
        "Events": {"ImportWorkerSqsEventSource": {"Type": "SQS", "Properties": Match.object_like(
            {"Queue": {"Fn::GetAtt": [queue, "Arn"]}, "BatchSize": 1})}},
    })


def test_functions_get_stage_names_and_tracing(template_json: dict[str, Any]) -> None:
    resources = template_json["Resources"].values()
    functions = [r for r in resources if r["Type"] == "AWS::Serverless::Function"]
    tables = {r["Properties"]["TableName"] for r in resources if r["Type"] == "AWS::DynamoDB::Table"}
    assert functions
    for function in functions:
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["GLINT_STAGE"] == STAGE
        assert variables["GLINT_BUCKET"] == f"{PREFIX}-images"
        assert variables["GLINT_IMPORT_QUEUE"] == f"{PREFIX}-imports"
        for model in topology.TABLE_MODELS:
            field = model.Meta.settings_field
            assert variables[f"GLINT_{field.upper()}"] in tables, field
        assert variables["GLINT_CERTIFICATE_SECRET_PREFIX"] == f"{PREFIX}/certificates/"
        assert function["Properties"]["Tracing"] == "Active"


def test_functions_read_certificates_where_a_custom_prefix_grants_them(monkeypatch) -> None:
    # With `-c resource_prefix=...` the roles may read `<prefix>/certificates/*`; the
    # functions must look there too, not under the stage's default prefix.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    try:
        deployment = stage.activate(ROOT, "qa", resource_prefix="acme-images")
        assert deployment.settings.certificate_secret_prefix == "acme-images/certificates/"
        assert (deployment.lambda_environment()["GLINT_CERTIFICATE_SECRET_PREFIX"]
                == "acme-images/certificates/")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_alarms_on_dead_letters_errors_and_api_5xx(template: Template) -> None:
    dlq = _logical_id(template, "AWS::SQS::Queue", QueueName=f"{PREFIX}-imports-dlq")
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}]})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "Errors", "Namespace": "AWS/Lambda", "Threshold": 0,
        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "ImportWorker"}}]})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "5XXError", "Namespace": "AWS/ApiGateway", "Statistic": "Average",
        "Dimensions": [{"Name": "ApiName", "Value": PREFIX}]})
    template.has_resource_properties("AWS::Serverless::Api", {"Name": PREFIX})
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_gateway_answers_refused_tokens_with_a_challenge_and_outages_with_503(template) -> None:
    template.has_resource_properties("AWS::ApiGateway::GatewayResponse", {
        "ResponseType": "UNAUTHORIZED", "StatusCode": "401",
        "ResponseParameters": {"gatewayresponse.header.WWW-Authenticate":
                               Match.string_like_regexp("^'Keystone uri=")}})
    template.has_resource_properties("AWS::ApiGateway::GatewayResponse", {
        "ResponseType": "AUTHORIZER_FAILURE", "StatusCode": "503"})


def test_gateway_answers_unknown_paths_as_glance(template) -> None:
    template.has_resource_properties("AWS::ApiGateway::GatewayResponse", {
        "ResponseType": "MISSING_AUTHENTICATION_TOKEN", "StatusCode": "404",
        "ResponseTemplates": {"application/json": Match.string_like_regexp(
            '"code": 404.*"message": "The resource could not be found."')}})
