"""Every function logs as the API does: Lambda loads each one's handler module (not always
app.py), so each is started here as Lambda would, with its own environment from the
template, and must write INFO lines as JSON with secrets redacted."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SIGNATURE = "0123456789abcdef-signature"
# Imports the handler's module as the Lambda runtime does, then logs through a plain logger.
PROBE = f"""
import importlib, logging, sys
importlib.import_module(sys.argv[1])
logging.getLogger("probe").info(
    "signed https://bucket.s3.amazonaws.com/k?X-Amz-Signature={SIGNATURE}&X-Amz-Expires=9")
"""


def _modules(functions: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Handler module -> one function that Lambda starts through it."""
    return {props["Handler"].rpartition(".")[0]: name for name, props in functions.items()}


def test_every_handler_module_is_probed(functions: dict[str, dict[str, Any]]) -> None:
    assert set(_modules(functions)) == {"app", "chalicelib.pipeline.handlers",
                                        "chalicelib.api.authorizer", "chalicelib.api.metadefs"}


@pytest.mark.parametrize("module", ["app", "chalicelib.pipeline.handlers",
                                    "chalicelib.api.authorizer", "chalicelib.api.metadefs"])
def test_function_logs_json_at_info_with_redaction(
        module: str, functions: dict[str, dict[str, Any]]) -> None:
    name = _modules(functions)[module]
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GLINT_", "AWS_"))}
    env.update(functions[name]["Environment"]["Variables"])
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": f"glint-{name}", "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "probe", "AWS_SECRET_ACCESS_KEY": "probe",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_XRAY_SDK_ENABLED": "false",
        # Nothing may leave the machine: any AWS call would meet a closed loopback port.
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
    })
    result = subprocess.run([sys.executable, "-c", PROBE, module], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    (probe,) = [line for line in lines if line["message"].startswith("signed ")]
    assert probe["level"] == "INFO"
    assert "X-Amz-Signature" not in probe["message"] and "REDACTED" in probe["message"]
    assert SIGNATURE not in result.stdout + result.stderr
