"""IAM enforced on the embedded AWS: one role per function from the template's statements,
the runtime itself as an administrator, and moto checking every request's signature and
action from then on.

moto checks what it can (the caller's identity and signature for every service; resources
for S3 and SQS only; no conditions), so the role it holds is the template's statements in
moto's terms; glint_local.sandbox checks each call against the full statements as well."""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.credentials import Credentials
from moto.core.authorization import ActionAuthenticatorMixin

from glint_local.stack import ACCOUNT, Function, Statement

OPERATOR = "glint-operator"
# Services whose moto responses authorize against the resource's ARN; for the others moto
# passes "*", which only a statement on "*" matches.
_MOTO_MATCHES_RESOURCES = ("s3:", "sqs:")
# ... except these, which name no queue in the request (moto checks them against "*").
_MOTO_UNSCOPED = frozenset({"sqs:GetQueueUrl"})
# What moto calls the actions IAM checks per item of a batch or transaction.
_MOTO_BATCH_ACTIONS = {
    "sqs:SendMessage": "sqs:SendMessageBatch", "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
    "dynamodb:PutItem": "dynamodb:TransactWriteItems",
    "dynamodb:UpdateItem": "dynamodb:TransactWriteItems",
    "dynamodb:DeleteItem": "dynamodb:TransactWriteItems",
    "dynamodb:ConditionCheckItem": "dynamodb:TransactWriteItems",
    "dynamodb:GetItem": "dynamodb:TransactGetItems",
}
_ADMIN = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_original_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


@dataclass(frozen=True, slots=True)
class Roles:
    """Each function's role session credentials, by handler."""

    credentials: dict[str, Credentials]


def create_roles(endpoint: str, functions: dict[str, Function], region: str) -> Roles:
    """Create each function's role (trust policy and statements from the template) and assume
    it; make the operator user whose keys this process signs with from now on (the
    environment's keys are replaced). Call before enforcement starts."""
    boot = boto3.session.Session(aws_access_key_id="bootstrap", aws_secret_access_key="-",
                                 region_name=region)
    iam = boot.client("iam", endpoint_url=endpoint)
    sts = boot.client("sts", endpoint_url=endpoint)
    iam.create_user(UserName=OPERATOR)
    iam.put_user_policy(UserName=OPERATOR, PolicyName="admin", PolicyDocument=json.dumps(_ADMIN))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                      AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])
    credentials = {}
    for function in functions.values():
        iam.create_role(RoleName=function.logical_id,
                        AssumeRolePolicyDocument=json.dumps(function.trust_policy))
        if function.statements:
            iam.put_role_policy(RoleName=function.logical_id, PolicyName="template",
                                PolicyDocument=json.dumps({
                                    "Version": "2012-10-17",
                                    "Statement": [m for s in function.statements
                                                  for m in moto_statements(s)]}))
        session = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{function.logical_id}",
                                  RoleSessionName=function.logical_id)["Credentials"]
        credentials[function.handler] = Credentials(
            session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    return Roles(credentials)


def moto_statements(statement: Statement) -> list[Statement]:
    """The statement as moto can evaluate it: no conditions (moto denies any it meets), "*"
    for the actions moto authorizes against "*", and moto's names for batches."""
    actions = statement["Action"]
    actions = [actions] if isinstance(actions, str) else actions
    actions = {*actions, *(_MOTO_BATCH_ACTIONS[a] for a in actions if a in _MOTO_BATCH_ACTIONS)}
    scoped = sorted(a for a in actions
                    if a.startswith(_MOTO_MATCHES_RESOURCES) and a not in _MOTO_UNSCOPED)
    unscoped = sorted(actions - set(scoped))
    return ([{"Effect": statement["Effect"], "Action": scoped,
              "Resource": statement["Resource"]}] if scoped else []) + \
        ([{"Effect": statement["Effect"], "Action": unscoped, "Resource": "*"}]
         if unscoped else [])


@contextmanager
def enforced(endpoint: str) -> Iterator[None]:
    """moto authenticates and authorizes every request in the block (its reset-auth API)."""
    previous = _reset_auth(endpoint, 0)
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore
    try:
        yield
    finally:
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _original_authorize  # type: ignore
        _reset_auth(endpoint, previous)


@contextmanager
def keep_credentials() -> Iterator[None]:
    """Restore the environment's credentials after the block (create_roles replaces them)."""
    saved = {name: os.environ.get(name) for name in _CREDENTIAL_VARIABLES}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _reset_auth(endpoint: str, count: float) -> float:
    response = requests.post(f"{endpoint}/moto-api/reset-auth", data=str(count).encode(),
                             timeout=10)
    response.raise_for_status()
    return float(response.json()["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    # moto expects an Authorization header and fails on presigned requests (their signature
    # is in the query). A presigned URL can do only what its signer may: the sandbox checked
    # that when the function signed it, so it is let through here.
    headers = getattr(self, "headers", {})
    if "Authorization" not in headers and "X-Amz-Signature=" in getattr(self, "uri", ""):
        return
    authorize: Callable[..., None] = _original_authorize
    authorize(self, iam_request_cls, resource)
