"""Rules a stack must follow to deploy and keep working on AWS, checked on the template of
the README's own deploy command (see conftest): what CloudFormation, Lambda and SQS would
refuse or get wrong only at deploy time, or only under load."""
from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from chalicelib import topology
from tests.infra.conftest import Grants

Functions = dict[str, dict[str, Any]]
# Lambda's synchronous invocation payload, request and response alike.
LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024
# API Gateway (REST) request payload.
API_GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024
# What a proxy event carries besides the body: headers (10 KiB at most in a REST API) twice,
# as `headers` and `multiValueHeaders`, plus the request context and path (a generous 4 KiB).
PROXY_EVENT_OVERHEAD_BYTES = 2 * 10 * 1024 + 4 * 1024
# Names a resource type takes from its template (a fixed name makes a retry collide).
FIXED_NAMES = {"AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName",
               "AWS::SQS::Queue": "QueueName", "AWS::Events::EventBus": "Name",
               "AWS::Logs::LogGroup": "LogGroupName", "AWS::CloudWatch::Dashboard":
               "DashboardName"}
DATA = ("AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup")
_RATE = re.compile(r"^rate\((\d+) minutes?\)$")


def _sqs_triggers(functions: Functions) -> list[tuple[str, dict[str, Any]]]:
    return [(name, event["Properties"]) for name, props in functions.items()
            for event in (props.get("Events") or {}).values() if event["Type"] == "SQS"]


def test_every_queue_trigger_has_six_times_its_consumers_timeout(
        template_json: dict[str, Any], functions: Functions) -> None:
    resources = template_json["Resources"]
    triggers = _sqs_triggers(functions)
    assert {name for name, _ in triggers} == {"ImportWorker", "ImportDeadLetters"}
    for name, trigger in triggers:
        queue = resources[trigger["Queue"]["Fn::GetAtt"][0]]["Properties"]
        # SQS's default visibility is 30 s, which Lambda refuses below the function timeout.
        visibility = queue.get("VisibilityTimeout", 30)
        assert visibility >= 6 * functions[name]["Timeout"], (name, visibility)


def test_every_configured_secret_goes_to_its_readers_and_only_them(
        functions: Functions, grants: Grants) -> None:
    readers = {}
    for name, props in functions.items():
        variables = props["Environment"]["Variables"]
        secrets = {value for key, value in variables.items() if key.endswith("_SECRET_ID")}
        # Signing certificates are not settings: they have their own test (test_permissions).
        granted = {resource for action, resource in grants[name]
                   if action.startswith("secretsmanager:") and "/certificates/" not in resource}
        assert {a for a, _ in grants[name] if a.startswith("secretsmanager:")} <= {
            "secretsmanager:GetSecretValue"}
        assert {_secret_name(r) for r in granted} == secrets, name
        if secrets:
            readers[name] = secrets
    # The README's stage names a Keystone secret (.chalice/config.json): API and authorizer.
    assert set(readers) == {"APIHandler", "GlintAuth"}


def _secret_name(arn_text: str) -> str:
    """`...:secret:glint-dev/keystone-service-??????` -> `glint-dev/keystone-service`."""
    return arn_text.split(":secret:", 1)[1].removesuffix("-??????")


def test_fixed_name_resources_survive_a_failed_first_create(template_json: dict[str, Any]) -> None:
    named = [(name, r) for name, r in template_json["Resources"].items()
             if FIXED_NAMES.get(r["Type"]) in r.get("Properties", {})]
    assert {r["Type"] for _, r in named} == set(FIXED_NAMES)
    for name, resource in named:
        policy = resource.get("DeletionPolicy", "Delete")
        # Retain would leave the name taken when a first create rolls back: every retry
        # then fails with "already exists". Data is kept on delete, but not on that rollback.
        expected = {"RetainExceptOnCreate"} if resource["Type"] in DATA else {
            "Delete", "RetainExceptOnCreate"}
        assert policy in expected, (name, policy)
        # A deletion-protected table would refuse the rollback's delete and stay behind.
        assert resource["Properties"].get("DeletionProtectionEnabled") in (None, False), name


def test_pipeline_concurrency_is_bounded(functions: Functions) -> None:
    for name, trigger in _sqs_triggers(functions):
        assert 2 <= trigger["ScalingConfig"]["MaximumConcurrency"] <= 50, name
    for name, props in functions.items():
        for event in (props.get("Events") or {}).values():
            if event["Type"] == "Schedule":  # one run per period, each over before the next
                minutes = int(_RATE.match(event["Properties"]["Schedule"]).group(1))
                assert props["Timeout"] < 60 * minutes, name
    # Only API Gateway invokes the rest: the API and its authorizer, which must not starve.
    untriggered = {name for name, props in functions.items() if not props.get("Events")}
    assert untriggered == {"APIHandler", "GlintAuth", "MetadefsLoader"}


def test_every_function_has_a_sized_envelope(functions: Functions) -> None:
    for name, props in functions.items():
        assert props["MemorySize"] >= 256 and props["EphemeralStorage"]["Size"] >= 512, name
    # API Gateway gives up after 29 s; a longer API timeout would only hide that.
    assert functions["APIHandler"]["Timeout"] <= 29
    assert functions["ImportWorker"]["Timeout"] == topology.WORKER_TIMEOUT_SECONDS


def test_every_function_logs_to_a_retained_group(
        template_json: dict[str, Any], functions: Functions) -> None:
    every = [r for r in template_json["Resources"].values() if r["Type"] == "AWS::Logs::LogGroup"]
    # The functions' groups are named for them; the big-image engine's task has its own.
    groups = {r["Properties"]["LogGroupName"]["Fn::Join"][1][1]["Ref"]: r
              for r in every if "LogGroupName" in r["Properties"]}
    assert set(groups) == set(functions)
    for group in groups.values():
        assert group["DeletionPolicy"] == "RetainExceptOnCreate"
    for group in every:
        assert group["Properties"]["RetentionInDays"] > 0


def test_every_alarm_notifies_the_topic_and_mail_is_a_parameter(
        template_json: dict[str, Any]) -> None:
    resources = template_json["Resources"]
    (topic,) = [name for name, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms
    for alarm in alarms:
        assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]
    (subscription,) = [r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Condition"] in template_json["Conditions"]
    assert template_json["Parameters"]["AlarmEmail"]["Default"] == ""


def test_direct_put_bodies_fit_lambdas_payload(template_json: dict[str, Any], functions: Functions,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """PUT .../file arrives as one proxy event, its binary body base64-encoded."""
    from chalicelib.config import get_settings
    api = template_json["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "application/octet-stream" in api["x-amazon-apigateway-binary-media-types"]
    for key, value in functions["APIHandler"]["Environment"]["Variables"].items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        limit = get_settings().direct_put_max_bytes
    finally:
        get_settings.cache_clear()
    assert limit >= 4 * 1024 * 1024  # multi-MiB images go through PUT .../file
    event = len(base64.b64encode(bytes(limit))) + PROXY_EVENT_OVERHEAD_BYTES
    assert event <= LAMBDA_SYNC_PAYLOAD_BYTES < API_GATEWAY_PAYLOAD_BYTES
