"""The big-image engine is declared in the CDK app: a Fargate task of the engine image with
room for big conversions, in a VPC with nothing inbound, started by the worker (which gets
its names, RunTask and nothing more), and the worker's own temporary storage sized to match."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(template_json: dict[str, Any]) -> Template:
    return Template.from_json(template_json)


def test_the_engine_task_has_cpu_memory_and_disk_for_big_images(template: Template) -> None:
    template.has_resource_properties("AWS::ECS::TaskDefinition", {
        "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
        "Cpu": "4096", "Memory": "8192", "EphemeralStorage": {"SizeInGiB": 200},
        "ContainerDefinitions": [Match.object_like({
            "Name": "engine",
            # The same resource names as the functions get (the stage's bucket here).
            "Environment": Match.array_with([{"Name": "GLINT_BUCKET", "Value":
                                              Match.string_like_regexp(r"^glint-.+-images$")}]),
        })],
    })


def test_the_worker_knows_the_engine_and_may_start_it(template: Template) -> None:
    workers = template.find_resources("AWS::Serverless::Function", {"Properties": {
        "Handler": "chalicelib.pipeline.handlers.import_worker"}})
    assert len(workers) == 1
    worker = next(iter(workers.values()))["Properties"]
    variables = worker["Environment"]["Variables"]
    assert {"GLINT_ENGINE_CLUSTER", "GLINT_ENGINE_TASK_DEFINITION", "GLINT_ENGINE_SUBNETS",
            "GLINT_ENGINE_SECURITY_GROUPS"} <= set(variables)
    assert variables["GLINT_FUNCTION_STORAGE_BYTES"] == str(10240 * 1024 * 1024)
    assert worker["EphemeralStorage"] == {"Size": 10240}
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {
        "Statement": Match.array_with([Match.object_like({"Action": "ecs:RunTask"})])}})


def test_nothing_reaches_the_engine_tasks_from_outside(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::SecurityGroup", {
        "GroupDescription": "Glint big-image engine tasks: no inbound traffic",
        "SecurityGroupIngress": Match.absent()})
    assert template.find_resources("AWS::EC2::NatGateway") == {}


def test_the_image_definition_ships_qemu_img_and_the_entry_point() -> None:
    dockerfile = (ROOT / "engine" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim-bookworm" in dockerfile  # Debian 12, as qemu-utils here
    assert "apt-get install -y --no-install-recommends qemu-utils" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "chalicelib.pipeline.engine_task"]' in dockerfile


def test_the_engine_task_role_does_what_the_worker_does_but_read_queues(
        template_json: dict[str, Any]) -> None:
    resources = template_json["Resources"]
    (task,) = [r for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    task_role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    actions = {action for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
               and {"Ref": task_role} in r["Properties"]["Roles"]
               for s in r["Properties"]["PolicyDocument"]["Statement"]
               for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"s3:GetObject", "dynamodb:PutItem", "events:PutEvents"} <= actions
    assert not {a for a in actions if a.startswith("sqs:")}
