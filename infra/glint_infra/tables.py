"""DynamoDB tables declared from the pynamodb models' own schema (keys, GSIs, TTL)."""
from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from pynamodb.models import Model

from chalicelib import topology
from chalicelib.config import Settings
from glint_infra.suppressions import NO_CMK, accept

Table = dynamodb.CfnTable


def tables(scope: Construct, settings: Settings, protect: bool = False) -> dict[str, Table]:
    """One table per model in topology, keyed by the settings field that names it.

    `protect` turns on deletion protection. Not on the stack's first create: if that fails,
    CloudFormation deletes what it created, and a protected table would stay behind and block
    every retry with "already exists".
    """
    return {model.Meta.settings_field: _table(scope, model, settings, protect)
            for model in topology.TABLE_MODELS}


def _table(scope: Construct, model: type[Model], settings: Settings, protect: bool) -> Table:
    schema = model._get_schema()
    ttl = model._ttl_attribute()
    table = Table(
        scope, f"{model.__name__.removesuffix('Model')}Table",
        table_name=getattr(settings, model.Meta.settings_field),
        billing_mode=model.Meta.billing_mode,
        key_schema=_keys(schema["key_schema"]),
        attribute_definitions=[
            Table.AttributeDefinitionProperty(attribute_name=a["AttributeName"],
                                              attribute_type=a["AttributeType"])
            for a in schema["attribute_definitions"]],
        global_secondary_indexes=[
            Table.GlobalSecondaryIndexProperty(**_index(i))
            for i in schema["global_secondary_indexes"]] or None,
        local_secondary_indexes=[
            Table.LocalSecondaryIndexProperty(**_index(i))
            for i in schema["local_secondary_indexes"]] or None,
        point_in_time_recovery_specification=Table.PointInTimeRecoverySpecificationProperty(
            point_in_time_recovery_enabled=True),
        time_to_live_specification=Table.TimeToLiveSpecificationProperty(
            attribute_name=ttl.attr_name, enabled=True) if ttl else None,
        deletion_protection_enabled=protect,
    )
    # Kept when the stack is deleted or the table replaced; removed if the first create fails.
    table.apply_removal_policy(cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)
    accept(table, checkov={"CKV_AWS_119": NO_CMK})
    return table


def _keys(key_schema: list[dict[str, str]]) -> list[Table.KeySchemaProperty]:
    return [Table.KeySchemaProperty(attribute_name=k["AttributeName"], key_type=k["KeyType"])
            for k in key_schema]


def _index(index: dict[str, Any]) -> dict[str, Any]:
    """pynamodb's index description -> CloudFormation's (on demand: no throughput)."""
    projection = index["projection"]
    return {"index_name": index["index_name"], "key_schema": _keys(index["key_schema"]),
            "projection": Table.ProjectionProperty(
                projection_type=projection["ProjectionType"],
                non_key_attributes=projection.get("NonKeyAttributes"))}
