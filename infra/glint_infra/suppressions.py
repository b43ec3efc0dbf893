"""Findings that are accepted on purpose: each carries its reason into the template."""
from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk

NO_CMK = ("Encrypted with the AWS-managed or AWS-owned key: a customer-managed KMS key bills "
          "every month even when idle, and every request would be a KMS call.")


def accept(resource: cdk.CfnResource, checkov: Mapping[str, str]) -> None:
    """Record accepted checkov findings (id -> reason) in the resource's metadata."""
    resource.add_metadata("checkov", {"skip": [{"id": check, "comment": reason}
                                               for check, reason in checkov.items()]})
