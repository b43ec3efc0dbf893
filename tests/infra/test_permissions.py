"""Each function's role can do only what that function needs, on Glint's own resources."""
from __future__ import annotations

from typing import Any

import pytest

Grants = dict[str, list[tuple[str, str]]]


def _resource_text(resource: Any) -> str:
    """A policy resource as comparable text: `{Bucket.Arn}/images/*`, `{Table.Arn}`, `*`."""
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return "{%s.%s}" % tuple(resource["Fn::GetAtt"])
    if "Ref" in resource:
        return "{%s}" % resource["Ref"]
    return "".join(_resource_text(part) for part in resource["Fn::Join"][1])


@pytest.fixture(scope="module")
def grants(template_json: dict[str, Any]) -> Grants:
    """Function logical id -> [(action, resource)] allowed by its role's policies."""
    resources = template_json["Resources"]
    role_of = {r["Properties"]["Role"]["Fn::GetAtt"][0]: name for name, r in resources.items()
               if r["Type"] == "AWS::Serverless::Function"}
    found: Grants = {function: [] for function in role_of.values()}
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for role in resource["Properties"]["Roles"]:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"]
                targets = statement["Resource"]
                found[role_of[role["Ref"]]] += [
                    (action, _resource_text(target))
                    for action in ([actions] if isinstance(actions, str) else actions)
                    for target in (targets if isinstance(targets, list) else [targets])]
    return found


def _logical_id(template_json: dict[str, Any], kind: str, prefix: str) -> str:
    (found,) = [name for name, r in template_json["Resources"].items()
                if r["Type"] == kind and name.startswith(prefix)]
    return found


@pytest.fixture(scope="module")
def bucket(template_json: dict[str, Any]) -> str:
    return "{%s.Arn}" % _logical_id(template_json, "AWS::S3::Bucket", "ImageBucket")


def test_every_function_has_its_own_role(template_json: dict[str, Any]) -> None:
    roles = [r["Properties"]["Role"]["Fn::GetAtt"][0] for r in template_json["Resources"].values()
             if r["Type"] == "AWS::Serverless::Function"]
    assert len(roles) == len(set(roles)) > 1


def test_no_wildcard_actions_and_star_only_for_xray(grants: Grants) -> None:
    for function, allowed in grants.items():
        for action, resource in allowed:
            assert "*" not in action, (function, action)
            if resource == "*":
                assert action.startswith("xray:"), (function, action)


def test_api_reads_only_verified_image_data(grants: Grants, bucket: str) -> None:
    reads = {resource for action, resource in grants["APIHandler"] if action == "s3:GetObject"}
    # Presigned GETs are signed with the API's credentials: it needs images/*, nothing else.
    assert reads == {f"{bucket}/images/*"}


def test_api_writes_only_staging(grants: Grants, bucket: str) -> None:
    writes = {resource for action, resource in grants["APIHandler"] if action == "s3:PutObject"}
    assert writes == {f"{bucket}/staging/*"}


def test_api_lists_only_the_staging_prefix(template_json: dict[str, Any]) -> None:
    statements = [s for r in template_json["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                  for s in r["Properties"]["PolicyDocument"]["Statement"]
                  if "s3:ListBucket" in s["Action"]]
    assert statements
    for statement in statements:
        assert statement["Condition"] == {"StringLike": {"s3:prefix": ["staging/*"]}}


def test_worker_changes_only_images_tasks_and_usage_counters(
        grants: Grants, template_json: dict[str, Any]) -> None:
    record = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
    images, tasks, usage = (_logical_id(template_json, "AWS::DynamoDB::Table", name)
                            for name in ("ImageTable", "TaskTable", "UsageTable"))
    table_actions = {(a, r) for a, r in grants["ImportWorker"] if a.startswith("dynamodb:")}
    assert table_actions == {(a, "{%s.Arn}" % table) for a in record for table in (images, tasks)
                             } | {("dynamodb:UpdateItem", "{%s.Arn}" % usage)}


def test_worker_reads_staging_and_writes_images(grants: Grants, bucket: str) -> None:
    s3 = {(a, r) for a, r in grants["ImportWorker"] if a.startswith("s3:")}
    assert ("s3:GetObject", f"{bucket}/staging/*") in s3
    assert ("s3:PutObject", f"{bucket}/images/*") in s3
    assert ("s3:GetObject", f"{bucket}/images/*") not in s3
    # web-download streams the fetched bytes into staging.
    assert ("s3:PutObject", f"{bucket}/staging/*") in s3


def test_scrubber_deletes_but_never_reads_image_bytes(grants: Grants, bucket: str) -> None:
    s3 = {(a, r) for a, r in grants["ImageScrubber"] if a.startswith("s3:")}
    assert ("s3:DeleteObject", f"{bucket}/images/*") in s3
    assert not {a for a, _ in s3} & {"s3:GetObject", "s3:PutObject"}


def test_only_queue_consumers_receive(grants: Grants) -> None:
    receivers = {function for function, allowed in grants.items()
                 for action, _ in allowed if action == "sqs:ReceiveMessage"}
    assert receivers == {"ImportWorker", "ImportDeadLetters"}


def test_logs_go_to_the_functions_own_group(grants: Grants) -> None:
    for function, allowed in grants.items():
        groups = {r for a, r in allowed if a.startswith("logs:")}
        assert groups == {f"arn:{{AWS::Partition}}:logs:{{AWS::Region}}:{{AWS::AccountId}}:"
                          f"log-group:/aws/lambda/{{AWS::StackName}}-{function}-*:*"}
