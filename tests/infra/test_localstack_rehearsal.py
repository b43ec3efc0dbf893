"""A deploy rehearsal: the README's synthesized template, given to LocalStack's CloudFormation
(host mode, offline, loopback only), for the resources LocalStack can create without Docker or
downloads: S3, SQS, EventBridge, IAM, SNS and CloudWatch alarms.

What is left out, and why: the DynamoDB tables (LocalStack's DynamoDB downloads a Java runtime
and DynamoDB Local; the policies keep naming the tables, by ARN), the SAM functions and the API
(the Serverless transform and Lambda need Docker), and whatever refers to them (log groups,
Lambda permissions, gateway responses, the dashboard, the functions' error alarms)."""
from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.localstack.conftest import HERE as LOCALSTACK_DIR
from tests.localstack.conftest import OFFLINE, START_TIMEOUT, virtualenv_python
from tests.processes import free_port, stop, wait_until_up

pytestmark = pytest.mark.localstack

SERVICES = ("cloudformation", "s3", "sqs", "events", "iam", "sts", "sns", "cloudwatch")
REHEARSED = {"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::SQS::Queue",
             "AWS::SQS::QueuePolicy", "AWS::Events::EventBus", "AWS::Events::Rule",
             "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
             "AWS::SNS::Subscription", "AWS::CloudWatch::Alarm"}
STACK = "glint-rehearsal"
CREATE_TIMEOUT = 240


def rehearsal_template(template: dict[str, Any]) -> dict[str, Any]:
    """The template's rehearsable resources, tables replaced by their ARNs, and nothing that
    refers to a resource left out."""
    tables = {name: r["Properties"]["TableName"] for name, r in template["Resources"].items()
              if r["Type"] == "AWS::DynamoDB::Table"}

    def by_arn(node: Any) -> Any:
        if isinstance(node, dict):
            target = node.get("Fn::GetAtt", [None])[0] if len(node) == 1 else None
            if target in tables:
                return {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:"
                                   f"${{AWS::AccountId}}:table/{tables[target]}"}
            return {key: by_arn(value) for key, value in node.items()}
        return [by_arn(value) for value in node] if isinstance(node, list) else node

    resources = {name: by_arn(r) for name, r in template["Resources"].items()}
    kept = {name for name, r in resources.items() if r["Type"] in REHEARSED}
    known = kept | set(template["Parameters"])
    # A policy stays while its roles do; only its statements on left-out resources go.
    while missing := {name for name in kept
                      if not _references(_outside_statements(resources[name])) <= known}:
        kept -= missing
        known -= missing
    return {"Parameters": {"AlarmEmail": template["Parameters"]["AlarmEmail"]},
            "Conditions": template["Conditions"],
            "Resources": {name: _without_dropped_dependencies(
                _without_statements_on(resources[name], known), kept) for name in kept}}


def _outside_statements(resource: dict[str, Any]) -> dict[str, Any]:
    properties = resource.get("Properties", {})
    if resource["Type"] != "AWS::IAM::Policy":
        return properties
    return {key: value for key, value in properties.items() if key != "PolicyDocument"}


def _without_statements_on(resource: dict[str, Any], known: set[str]) -> dict[str, Any]:
    if resource["Type"] != "AWS::IAM::Policy":
        return resource
    document = resource["Properties"]["PolicyDocument"]
    statements = [s for s in document["Statement"] if _references(s) <= known]
    return {**resource, "Properties": {**resource["Properties"], "PolicyDocument": {
        **document, "Statement": statements}}}


def _references(node: Any) -> set[str]:
    if isinstance(node, list):
        return {ref for value in node for ref in _references(value)}
    if not isinstance(node, dict):
        return set()
    found = {ref for key, value in node.items() if key not in ("Ref", "Fn::GetAtt")
             for ref in _references(value)}
    if isinstance(node.get("Ref"), str) and not node["Ref"].startswith("AWS::"):
        found.add(node["Ref"])
    if "Fn::GetAtt" in node:
        found.add(node["Fn::GetAtt"][0])
    return found


def _without_dropped_dependencies(resource: dict[str, Any], kept: set[str]) -> dict[str, Any]:
    resource = {key: value for key, value in resource.items() if key != "Metadata"}
    depends = resource.pop("DependsOn", [])
    depends = [name for name in ([depends] if isinstance(depends, str) else depends)
               if name in kept]
    return {**resource, **({"DependsOn": depends} if depends else {})}


@pytest.fixture(scope="module")
def localstack_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """LocalStack with CloudFormation and the rehearsed services, offline and on loopback."""
    python = virtualenv_python()
    root = tmp_path_factory.mktemp("localstack-cfn")
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = {"PATH": os.environ["PATH"], "HOME": str(root), "PYTHONUNBUFFERED": "1",
           "FILESYSTEM_ROOT": str(root), "GATEWAY_LISTEN": endpoint.removeprefix("http://"),
           **OFFLINE, "SERVICES": ",".join(SERVICES)}
    log_path = root / "localstack.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(python), str(LOCALSTACK_DIR / "serve.py")], cwd=root,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(process, lambda: _ready(endpoint), "LocalStack", log_path, START_TIMEOUT)
        yield endpoint
    finally:
        stop(process)


def _ready(endpoint: str) -> bool:
    services = requests.get(f"{endpoint}/_localstack/health", timeout=2).json()["services"]
    return all(services.get(name) in {"running", "available"} for name in SERVICES)


@pytest.fixture(scope="module")
def aws(localstack_endpoint: str) -> Any:
    """A boto3 client factory for LocalStack (its test account)."""
    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=localstack_endpoint)


@pytest.fixture(scope="module")
def deployed(aws: Any, template_json: dict[str, Any]) -> dict[str, str]:
    """Create the stack; logical id -> physical id of what it created."""
    cfn = aws("cloudformation")
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(rehearsal_template(template_json)),
                     Capabilities=["CAPABILITY_IAM"])
    deadline = time.monotonic() + CREATE_TIMEOUT
    while (status := cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
           ).endswith("IN_PROGRESS") and time.monotonic() < deadline:
        time.sleep(1)
    failures = [(e["LogicalResourceId"], e.get("ResourceStatusReason"))
                for e in cfn.describe_stack_events(StackName=STACK)["StackEvents"]
                if e["ResourceStatus"].endswith("FAILED")]
    assert status == "CREATE_COMPLETE", failures
    return {r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cfn.describe_stack_resources(StackName=STACK)["StackResources"]}


# The big-image engine's network and container resources: LocalStack runs ECS tasks only with
# Docker, and its EC2 is not part of the rehearsed services.
ENGINE_TYPES = {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::RouteTable",
                "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::Route",
                "AWS::EC2::InternetGateway", "AWS::EC2::VPCGatewayAttachment",
                "AWS::EC2::VPCEndpoint", "AWS::EC2::SecurityGroup", "AWS::ECS::Cluster",
                "AWS::ECS::TaskDefinition", "AWS::ECR::Repository"}


def test_only_dynamodb_the_lambda_side_and_the_engine_are_left_out(
        template_json: dict[str, Any]) -> None:
    kept = rehearsal_template(template_json)["Resources"]
    left_out = {r["Type"] for name, r in template_json["Resources"].items() if name not in kept}
    assert left_out - ENGINE_TYPES == {
        "AWS::DynamoDB::Table", "AWS::Serverless::Function", "AWS::Serverless::Api",
        "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::ApiGateway::GatewayResponse",
        "AWS::CloudWatch::Dashboard",
        "AWS::CloudWatch::Alarm"}  # the alarms on the functions' errors
    # Every role and every policy is rehearsed.
    assert all(name in kept for name, r in template_json["Resources"].items()
               if r["Type"].startswith("AWS::IAM::"))


def test_every_role_gets_its_policy(aws: Any, deployed: dict[str, str],
                                    template_json: dict[str, Any]) -> None:
    iam = aws("iam")
    rehearsed = rehearsal_template(template_json)["Resources"]
    policies = {name: r["Properties"] for name, r in template_json["Resources"].items()
                if r["Type"] == "AWS::IAM::Policy"}
    assert len(policies) == 10
    left_out = {name for name in template_json["Resources"] if name not in rehearsed}
    for name, policy in policies.items():
        (role,) = policy["Roles"]
        created = iam.get_role_policy(RoleName=deployed[role["Ref"]],
                                      PolicyName=policy["PolicyName"])["PolicyDocument"]
        wanted = rehearsed[name]["Properties"]["PolicyDocument"]
        assert _actions(created) == _actions(wanted), name
        # What the rehearsal left out of a policy is only its statements on left-out resources.
        dropped = [s for s in policy["PolicyDocument"]["Statement"]
                   if s not in wanted["Statement"]]
        assert all(_references(s) & left_out for s in dropped), name


def _actions(document: dict[str, Any]) -> list[set[str]]:
    return [{statement["Action"]} if isinstance(statement["Action"], str)
            else set(statement["Action"]) for statement in document["Statement"]]


def test_staged_objects_and_only_they_reach_the_import_queue(aws: Any,
                                                             deployed: dict[str, str]) -> None:
    s3, sqs = aws("s3"), aws("sqs")
    bucket = next(physical for logical, physical in deployed.items()
                  if logical.startswith("ImageBucket") and "Policy" not in logical)
    queue = sqs.get_queue_url(QueueName=f"{bucket.removesuffix('-images')}-imports")["QueueUrl"]
    s3.put_object(Bucket=bucket, Key="images/i1/l1", Body=b"verified")
    s3.put_object(Bucket=bucket, Key="staging/i1/u1", Body=b"staged")
    keys = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1,
                                           MaxNumberOfMessages=10).get("Messages", []):
            keys += [r["s3"]["object"]["key"] for r in json.loads(message["Body"]).get(
                "Records", [])]
    assert keys == ["staging/i1/u1"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert int(attributes["VisibilityTimeout"]) == 5400
    assert json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].endswith("-imports-dlq")


def test_activations_on_the_bus_reach_the_example_queue(aws: Any,
                                                        deployed: dict[str, str]) -> None:
    bus = next(physical for logical, physical in deployed.items()
               if logical.startswith("EventBus"))
    sqs = aws("sqs")
    queue = sqs.get_queue_url(QueueName=f"{bus}-activated")["QueueUrl"]
    aws("events").put_events(Entries=[
        {"Source": "glint.images", "DetailType": detail_type, "Detail": "{}",
         "EventBusName": bus} for detail_type in ("image.create", "image.activate")])
    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=5,
                                   MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail-type"] for m in received] == ["image.activate"]


def test_alarms_notify_the_topic(aws: Any, deployed: dict[str, str]) -> None:
    topic = deployed[next(name for name in deployed if name.startswith("AlarmTopic")
                          and "Policy" not in name)]
    alarms = aws("cloudwatch").describe_alarms()["MetricAlarms"]
    assert len(alarms) == 2  # the dead letters and the API's 5xx rate
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms)
    # No AlarmEmail given: no subscription.
    assert aws("sns").list_subscriptions()["Subscriptions"] == []
