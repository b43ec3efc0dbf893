"""Each function's role can do only what that function needs, on Glint's own resources."""
from __future__ import annotations

import json

from typing import Any

import pytest

from tests.infra.conftest import Grants


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


def test_api_reads_and_writes_only_what_its_paths_need(grants: Grants, bucket: str) -> None:
    s3 = {(a, r) for a, r in grants["APIHandler"] if a in ("s3:GetObject", "s3:PutObject")}
    # Presigned uploads and downloads are signed with the API's credentials (staging/ in,
    # images/ out); PUT .../file verifies its small body inline: read staging, copy to images.
    assert s3 == {(action, f"{bucket}/{prefix}*") for action in ("s3:GetObject", "s3:PutObject")
                  for prefix in ("staging/", "images/")}


def test_listings_stay_in_glints_prefixes(template_json: dict[str, Any]) -> None:
    # Only the orphan sweep lists images/ (what no record owns); the rest list staging/.
    listings = [(json.dumps(r["Properties"]["Roles"]), s)
                for r in template_json["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
                for s in r["Properties"]["PolicyDocument"]["Statement"]
                if "s3:ListBucket" in s["Action"]]
    assert listings
    for roles, statement in listings:
        prefixes = ["images/*", "staging/*"] if "OrphanSweep" in roles else ["staging/*"]
        assert statement["Condition"] == {"StringLike": {"s3:prefix": prefixes}}, roles


def test_worker_changes_only_images_tasks_and_usage_counters(
        grants: Grants, template_json: dict[str, Any]) -> None:
    record = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
    images, tasks, usage = (_logical_id(template_json, "AWS::DynamoDB::Table", name)
                            for name in ("ImageTable", "TaskTable", "UsageTable"))
    table_actions = {(a, r) for a, r in grants["ImportWorker"] if a.startswith("dynamodb:")}
    # Usage: counters changed by atomic adds; limits read before web-download holds bytes.
    # Tasks: the event outbox's entries are deleted once sent; a redelivered event of an
    # activated upload finds its import's task through the tasks-by-image index.
    assert table_actions == {(a, "{%s.Arn}" % table) for a in record for table in (images, tasks)
                             } | {(a, "{%s.Arn}" % usage)
                                  for a in ("dynamodb:UpdateItem", "dynamodb:GetItem")
                                  } | {("dynamodb:DeleteItem", "{%s.Arn}" % tasks),
                                       ("dynamodb:Query", "{%s.Arn}/index/*" % tasks)}


def test_worker_reads_staging_and_writes_images(grants: Grants, bucket: str) -> None:
    s3 = {(a, r) for a, r in grants["ImportWorker"] if a.startswith("s3:")}
    assert ("s3:GetObject", f"{bucket}/staging/*") in s3
    assert ("s3:PutObject", f"{bucket}/images/*") in s3
    # copy-image reads an active copy to write it into another store.
    assert ("s3:GetObject", f"{bucket}/images/*") in s3
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


def test_only_the_verifiers_read_signing_certificates(grants: Grants) -> None:
    readers = {function: {r for a, r in allowed if a == "secretsmanager:GetSecretValue"
                          and "/certificates/" in r}
               for function, allowed in grants.items()}
    assert {f for f, found in readers.items() if found} == {"APIHandler", "ImportWorker"}
    for resource in readers["ImportWorker"] | readers["APIHandler"]:
        assert resource.endswith(":secret:glint-dev/certificates/*"), resource
