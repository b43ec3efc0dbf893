"""With several stores (GLINT_STORES), every statement on image data covers each store's
bucket, images/ only; secrets go to their readers only. Built in process from
permissions.policies, the function the stack grants from."""
from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from chalicelib import topology
from glint_infra import functions as fn
from glint_infra import permissions

OTHER_STORE = "glint-test-replica"
SECRET = "glint-test/keystone"


@pytest.fixture(scope="module")
def allowed() -> dict[str, set[tuple[str, str]]]:
    """Function -> {(action, resource)} with a second store and a Keystone secret."""
    stack = cdk.Stack(cdk.App(), "stores")
    key = dynamodb.CfnTable.KeySchemaProperty(attribute_name="id", key_type="HASH")
    attribute = dynamodb.CfnTable.AttributeDefinitionProperty(attribute_name="id",
                                                              attribute_type="S")
    tables = {model.Meta.settings_field: dynamodb.CfnTable(
        stack, model.__name__, key_schema=[key], attribute_definitions=[attribute])
        for model in topology.TABLE_MODELS}
    policies = permissions.policies(permissions.Resources(
        bucket=s3.Bucket(stack, "Images", bucket_name="glint-test-images"), tables=tables,
        bus=events.EventBus(stack, "Bus"), import_queue=sqs.Queue(stack, "Imports"),
        dlq=sqs.Queue(stack, "Dlq"), secrets={"GLINT_KEYSTONE_SECRET_ID": SECRET},
        store_buckets=(OTHER_STORE,)))
    found = {}
    for function, statements in policies.items():
        found[function] = set()
        for statement in statements:
            rendered = stack.resolve(statement.to_statement_json())
            actions, targets = rendered["Action"], rendered["Resource"]
            found[function] |= {(a, _text(t))
                                for a in ([actions] if isinstance(actions, str) else actions)
                                for t in (targets if isinstance(targets, list) else [targets])}
    return found


def _text(resource: object) -> str:
    if isinstance(resource, str):
        return resource
    if "Ref" in resource:
        return "{%s}" % resource["Ref"]
    if "Fn::GetAtt" in resource:
        return "{%s}" % ".".join(resource["Fn::GetAtt"])
    return "".join(_text(part) for part in resource["Fn::Join"][1])


def _on_other_store(allowed: set[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(a, r.rpartition(f":s3:::{OTHER_STORE}/")[2]) for a, r in allowed
            if f":s3:::{OTHER_STORE}" in r}


def test_copies_between_stores_are_allowed_on_every_store(allowed) -> None:
    worker = _on_other_store(allowed[fn.WORKER_FUNCTION])
    assert worker == {("s3:GetObject", "images/*"), ("s3:PutObject", "images/*"),
                      ("s3:AbortMultipartUpload", "images/*"), ("s3:DeleteObject", "images/*")}
    # Downloads of the other store's copy, deleting an image or one store's copy.
    assert _on_other_store(allowed[fn.API_FUNCTION]) == {
        ("s3:GetObject", "images/*"), ("s3:PutObject", "images/*"),
        ("s3:DeleteObject", "images/*")}
    for cleaner in (fn.SCRUBBER_FUNCTION, fn.DEAD_LETTERS_FUNCTION):
        assert _on_other_store(allowed[cleaner]) == {("s3:DeleteObject", "images/*")}
    # The orphan sweep lists every store and removes what no record owns.
    bucket = f"arn:{{AWS::Partition}}:s3:::{OTHER_STORE}"
    assert _on_other_store(allowed[fn.SWEEP_FUNCTION]) == {
        ("s3:DeleteObject", "images/*"), ("s3:AbortMultipartUpload", "images/*"),
        ("s3:ListBucket", bucket), ("s3:ListBucketMultipartUploads", bucket)}
    for outsider in (fn.AUTHORIZER_FUNCTION, fn.REAPER_FUNCTION, fn.METADEFS_LOADER_FUNCTION):
        assert not _on_other_store(allowed[outsider])


def test_the_secret_goes_to_its_readers_only(allowed) -> None:
    readers = {function for function, grants in allowed.items()
               for action, resource in grants if action == "secretsmanager:GetSecretValue"
               and resource.endswith(f":secret:{SECRET}-??????")}
    assert readers == set(fn.SECRET_READERS["GLINT_KEYSTONE_SECRET_ID"]) == {
        fn.API_FUNCTION, fn.AUTHORIZER_FUNCTION}
    assert not {a for grants in allowed.values() for a, _ in grants
                if a.startswith("secretsmanager:") and a != "secretsmanager:GetSecretValue"}
