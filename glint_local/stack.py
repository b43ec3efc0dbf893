"""The deployed stack, read from its synthesized CloudFormation template: each function's
handler, role statements and Lambda limits, with references resolved to this runtime's ARNs.

The template is the single source: the local runtime models the deployed world from what
`cdk synth` produces (infra/), never from a second list of permissions or limits."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.config import Settings

PROJECT = Path(__file__).resolve().parent.parent
# The stage the README deploys; its resource names are replaced by this runtime's.
STAGE = "dev"
ACCOUNT = "123456789012"  # moto's default account
# Lambda's defaults where the template leaves a limit out.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_EPHEMERAL_MB = 512
# The settings that name resources.
_NAMES = ("bucket", "images_table", "members_table", "metadefs_table", "tasks_table",
          "usage_table", "import_queue", "event_bus", "certificate_secret_prefix")
# An ARN per resource type: how GetAtt Arn spells it from the resource's name property.
_ARNS = {
    "AWS::S3::Bucket": ("BucketName", "arn:aws:s3:::{name}"),
    "AWS::DynamoDB::Table": ("TableName", "arn:aws:dynamodb:{region}:{account}:table/{name}"),
    "AWS::SQS::Queue": ("QueueName", "arn:aws:sqs:{region}:{account}:{name}"),
    "AWS::Events::EventBus": ("Name", "arn:aws:events:{region}:{account}:event-bus/{name}"),
}

Statement = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Function:
    """One Lambda function of the stack, as the runtime models it."""

    logical_id: str
    handler: str  # Chalice's name for it: the handler function's name (the API's is `app`)
    timeout_seconds: int
    memory_mb: int
    ephemeral_mb: int
    statements: tuple[Statement, ...]  # its role's Allow statements, ARNs resolved
    trust_policy: dict[str, Any]


def synthesize(out_dir: Path, settings: Settings, stage: str = STAGE) -> Path:
    """`cdk synth` of `stage` (no bundle, offline) with this runtime's resource names and
    stores; returns the template's path.

    Raises:
        RuntimeError: the synth failed (its stderr is in the message).
    """
    # The stack names its resources from these settings, as the functions read them.
    environment = {f"GLINT_{name.upper()}": getattr(settings, name) for name in _NAMES}
    environment["GLINT_KEYSTONE_URL"] = (os.environ.get("GLINT_KEYSTONE_URL")
                                         or "https://keystone.invalid/v3")
    if os.environ.get("GLINT_STORES"):
        environment["GLINT_STORES"] = os.environ["GLINT_STORES"]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GLINT_", "AWS_", "CDK_"))}
    env.update({
        "CDK_OUTDIR": str(out_dir),
        "CDK_CONTEXT_JSON": json.dumps({"stage": stage, "bundle": False,
                                        "environment": environment}),
        # Nothing may leave the machine: no credential or region lookups.
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "synth",
        "AWS_SECRET_ACCESS_KEY": "synth", "AWS_DEFAULT_REGION": settings.region,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    })
    result = subprocess.run([sys.executable, str(PROJECT / "infra" / "cdk_app.py")],
                            cwd=out_dir.parent, env=env, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"cdk synth failed:\n{result.stderr[-4000:]}")
    return out_dir / f"{stage}.template.json"


def functions(template: dict[str, Any], settings: Settings) -> dict[str, Function]:
    """Chalice handler name -> Function, for every function in the template.

    Raises:
        ValueError: the template names other resources than this runtime's, or uses a
            reference the runtime cannot resolve.
    """
    resolver = _Resolver(template["Resources"], settings.region)
    bucket = resolver.resolve({"Fn::GetAtt": [_find(template, "AWS::S3::Bucket"), "Arn"]})
    if bucket != f"arn:aws:s3:::{settings.bucket}":
        raise ValueError(f"the template's bucket is {bucket}, this runtime's {settings.bucket}: "
                         "synthesize it with this runtime's resource names")
    resources = template["Resources"]
    statements: dict[str, list[Statement]] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            for role in resource["Properties"]["Roles"]:
                statements.setdefault(role["Ref"], []).extend(
                    resolver.resolve(s) for s in resource["Properties"]["PolicyDocument"]["Statement"])
    found = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        role = properties["Role"]["Fn::GetAtt"][0]
        handler = properties["Handler"].rsplit(".", 1)[-1]  # module.function
        found[handler] = Function(
            logical_id=logical_id, handler=handler,
            timeout_seconds=int(properties.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
            ephemeral_mb=int(properties.get("EphemeralStorage", {}).get(
                "Size", DEFAULT_EPHEMERAL_MB)),
            statements=tuple(statements.get(role, ())),
            trust_policy=resources[role]["Properties"]["AssumeRolePolicyDocument"])
    return found


def _find(template: dict[str, Any], kind: str) -> str:
    (logical_id,) = [name for name, r in template["Resources"].items() if r["Type"] == kind]
    return logical_id


class _Resolver:
    """CloudFormation intrinsics -> values, for the ones role policies use."""

    def __init__(self, resources: dict[str, Any], region: str) -> None:
        self._resources = resources
        self._pseudo = {"AWS::Partition": "aws", "AWS::Region": region,
                        "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com",
                        "AWS::StackName": "glint-local"}
        self._region = region

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            return self._arn(*value["Fn::GetAtt"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(p)) for p in parts)
        if isinstance(value.get("Fn::Sub"), str):  # ${AWS::Region} and the like
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._ref(m.group(1))),
                          value["Fn::Sub"])
        if any(key.startswith("Fn::") for key in value):
            raise ValueError(f"unsupported intrinsic in a role policy: {value}")
        return {key: self.resolve(v) for key, v in value.items()}

    def _ref(self, name: str) -> str:
        if name in self._pseudo:
            return self._pseudo[name]
        resource = self._resources[name]
        if resource["Type"] not in _ARNS:
            return self._unmodelled(name)
        if resource["Type"] == "AWS::SQS::Queue":
            raise ValueError(f"a queue URL in a role policy: {name}")
        return resource["Properties"][_ARNS[resource["Type"]][0]]

    def _unmodelled(self, name: str) -> str:
        kind = self._resources[name]["Type"].replace("::", "-").lower()
        return f"arn:aws:unmodelled:{self._region}:{ACCOUNT}:{kind}/{name}"

    def _arn(self, name: str, attribute: str) -> str:
        resource = self._resources[name]
        if resource["Type"] not in _ARNS:
            # Resources the runtime does not model (the engine's role, task, network): an ARN
            # of their own that no call the runtime makes can match.
            return self._unmodelled(name)
        if attribute != "Arn":
            raise ValueError(f"unsupported reference {name}.{attribute}")
        field, pattern = _ARNS[resource["Type"]]
        return pattern.format(name=resource["Properties"][field], region=self._region,
                              account=ACCOUNT)
