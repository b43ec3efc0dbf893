"""Synthesizes the CDK app once per session, offline, in its own process (as `cdk synth`
does), with the environment of a fresh shell rather than the test suite's GLINT_* values."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "ci"
# jsii warns on every start that the machine's Node 20 is past its end of life; it still works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

pytest.importorskip("aws_cdk", reason="aws-cdk-lib is not installed (requirements-dev.txt)")


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdk.out of `-c stage=ci -c bundle=false`: no Lambda wheels fetched, nothing deployed."""
    work = tmp_path_factory.mktemp("cdk")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GLINT_", "AWS_", "CDK_"))}  # a fresh shell's, not the suite's
    env.update({
        "CDK_OUTDIR": str(work / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps({"stage": STAGE, "bundle": False, "environment": {
            "GLINT_KEYSTONE_URL": "https://keystone.invalid/v3"}}),
        # No credential or region lookups can leave the machine.
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "synth",
        "AWS_SECRET_ACCESS_KEY": "synth", "AWS_DEFAULT_REGION": "us-east-1",
    })
    result = subprocess.run([sys.executable, str(ROOT / "infra" / "cdk_app.py")], cwd=work,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return work / "cdk.out"


@pytest.fixture(scope="session")
def template_path(synth_dir: Path) -> Path:
    return synth_dir / f"{STAGE}.template.json"


@pytest.fixture(scope="session")
def template_json(template_path: Path) -> dict[str, Any]:
    return json.loads(template_path.read_text())
