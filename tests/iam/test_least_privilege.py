"""Runtimes built from a changed template. Take one statement out of one role and the step
that needs it fails, while the untouched template passes the same step (test_flow.py); cut
the API function's timeout and a slow request gets API Gateway's 504."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.iam import flow
from tests.iam.conftest import running, wait_for, with_properties, without_statement


def _grants(action: str, prefix: str) -> Any:
    """Picks the statements allowing `action` on keys under `prefix` (any bucket)."""
    def picked(statement: dict[str, Any]) -> bool:
        actions = statement["Action"]
        return action in ([actions] if isinstance(actions, str) else actions) and \
            f"/{prefix}*" in json.dumps(statement["Resource"])
    return picked


def test_worker_without_images_write_cannot_activate(template: dict[str, Any], tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    narrowed = without_statement(template, "ImportWorker", _grants("s3:PutObject", "images/"))
    data = os.urandom(20_000)
    with caplog.at_level(logging.ERROR, logger="glint_local.pump"), \
            running(narrowed, tmp_path) as runtime:
        image_id = flow.create(runtime.api)
        flow.presigned_upload(runtime.api, image_id, data)
        denied = wait_for(lambda: [r for r in caplog.records if r.exc_info
                                   and "AccessDenied" in str(r.exc_info[1])])
        assert flow.image(runtime.api, image_id)["status"] != "active"
    assert denied, "the worker was never refused"
    assert f"images/{image_id}/" in str(denied[0].exc_info[1])


def test_api_without_staging_write_cannot_grant_an_upload(template: dict[str, Any],
                                                          tmp_path: Path) -> None:
    narrowed = without_statement(template, "APIHandler", _grants("s3:PutObject", "staging/"))
    with running(narrowed, tmp_path) as runtime:
        image_id = flow.create(runtime.api)
        # The presigned URL would carry the API's identity, which may not write staging/.
        grant = flow.call(runtime.api, "POST", f"/v2/images/{image_id}/uploads", {"size": 10})
        assert grant.status_code >= 500, grant.text


def test_an_api_call_past_its_timeout_answers_504(template: dict[str, Any], tmp_path: Path
                                                   ) -> None:
    with running(with_properties(template, "APIHandler", Timeout=1), tmp_path,
                 app_module="tests.iam.slow_versions_app") as runtime:
        # A warm environment: the deadline is the invocation's, not a cold start's.
        assert requests.get(f"{runtime.api}/v2/schemas/image", timeout=30).ok
        started = time.monotonic()
        response = requests.get(f"{runtime.api}/versions", timeout=30)
        assert response.status_code == 504
        assert json.loads(response.text) == {"message": "Endpoint request timed out"}
        assert time.monotonic() - started < 2.5
