"""Findings that are accepted on purpose: each carries its reason into the template."""
from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk

NO_CMK = ("Encrypted with the AWS-managed or AWS-owned key: a customer-managed KMS key bills "
          "every month even when idle, and every request would be a KMS call.")


def accept(resource: cdk.CfnResource, checkov: Mapping[str, str] | None = None,
           cfn_lint: Mapping[str, str] | None = None) -> None:
    """Record accepted checkov / cfn-lint findings (id -> reason) in the resource's metadata."""
    if checkov:
        resource.add_metadata("checkov", {"skip": [{"id": check, "comment": reason}
                                                   for check, reason in checkov.items()]})
    if cfn_lint:
        # cfn-lint only reads rule ids here; the reasons stay beside them for the reader.
        resource.add_metadata("cfn-lint", {"config": {"ignore_checks": sorted(cfn_lint)},
                                           "reasons": dict(cfn_lint)})
