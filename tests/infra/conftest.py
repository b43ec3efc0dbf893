"""Synthesizes the CDK app once per session, offline, in its own process (as `cdk synth`
does), with the environment of a fresh shell rather than the test suite's GLINT_* values.

The context is the one of the deploy command in infra/README.md, read from the README itself,
so the rules are checked on exactly what an operator following it deploys."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "infra" / "README.md"
# The CDK app's package (glint_infra), for tests that build parts of the stack in process.
sys.path.insert(0, str(ROOT / "infra"))
# jsii warns on every start that the machine's Node 20 is past its end of life; it still works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest.importorskip("aws_cdk", reason="aws-cdk-lib is not installed (requirements-dev.txt)")


def readme_deploy_context(readme: str) -> dict[str, str]:
    """The `-c key=value` pairs of the README's first `npx aws-cdk deploy` command."""
    match = re.search(r"^\s*(npx aws-cdk deploy (?:.*\\\n)*.*)$", readme, re.MULTILINE)
    assert match, "infra/README.md shows no `npx aws-cdk deploy` command"
    words = shlex.split(match.group(1).replace("\\\n", " "))
    return dict(words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "-c")


CONTEXT = readme_deploy_context(README.read_text())
STAGE = CONTEXT.get("stage", "dev")
PREFIX = f"glint-{STAGE}"


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdk.out of the README's deploy context plus `-c bundle=false`: no Lambda wheels
    fetched, nothing deployed."""
    work = tmp_path_factory.mktemp("cdk")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GLINT_", "AWS_", "CDK_"))}  # a fresh shell's, not the suite's
    env.update({
        "CDK_OUTDIR": str(work / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps({**CONTEXT, "bundle": False}),
        # No credential or region lookups can leave the machine.
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "synth",
        "AWS_SECRET_ACCESS_KEY": "synth", "AWS_DEFAULT_REGION": "us-east-1",
    })
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "cdk_app.py")], cwd=work,
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    return work / "cdk.out"


@pytest.fixture(scope="session")
def template_path(synth_dir: Path) -> Path:
    return synth_dir / f"{STAGE}.template.json"


@pytest.fixture(scope="session")
def template_json(template_path: Path) -> dict[str, Any]:
    return json.loads(template_path.read_text())


@pytest.fixture(scope="session")
def functions(template_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function logical id -> its properties."""
    return {name: r["Properties"] for name, r in template_json["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function"}


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


@pytest.fixture(scope="session")
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
