"""`scripts/run --enforce-iam --lambda-limits`: the runtime starts with IAM enforced (a
subprocess, on free loopback ports, from the tier's synthesized template)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.iam import flow
from tests.iam.conftest import PROJECT, TIER_ENV
from tests.processes import free_port, stop, wait_until_up


def test_the_runtime_starts_with_enforcement_on(template: dict[str, Any], tmp_path: Path) -> None:
    template_path = tmp_path / "stack.json"
    template_path.write_text(json.dumps(template))
    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLINT_"))}
    env.update(TIER_ENV, GLINT_RESOURCE_PREFIX="glint-test", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "glint.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "glint_local", "--port", str(api_port), "--aws-port",
             str(aws_port), "--enforce-iam", "--lambda-limits", "--template", str(template_path)],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
    api, endpoint = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}"
    try:
        # The first request cold-starts the API function's environment (a few seconds).
        wait_until_up(process, lambda: requests.get(f"{api}/versions", timeout=20).ok,
                      "runtime", log_path, 60)
        data = os.urandom(30_000)
        image_id = flow.create(api)
        flow.presigned_upload(api, image_id, data)
        flow.assert_active_with(api, image_id, data)
        # Anyone else is turned away by the embedded AWS.
        stranger = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        with pytest.raises(ClientError, match="InvalidAccessKeyId"):
            stranger.list_objects_v2(Bucket="glint-test-images")
    finally:
        stop(process)
