"""`-c protect_tables=true` (for deploys after the first) turns deletion protection on; the
default, used for the first create, leaves it off so that a failed create can roll back."""
from __future__ import annotations

import aws_cdk as cdk
import pytest

from chalicelib import topology
from chalicelib.config import get_settings
from glint_infra import tables


@pytest.mark.parametrize("protect", [False, True])
def test_protect_tables_sets_deletion_protection(protect: bool) -> None:
    stack = cdk.Stack(cdk.App(), "tables")
    declared = tables.tables(stack, get_settings(), protect)
    assert len(declared) == len(topology.TABLE_MODELS)
    for table in declared.values():
        assert stack.resolve(table.deletion_protection_enabled) is protect
        assert table.cfn_options.deletion_policy == cdk.CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE
