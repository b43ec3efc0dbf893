"""X-Ray: with the SDK enabled for one test, a real import through moto's server records a
subsegment per API request and per pipeline step, annotated, with AWS calls inside them."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.models.subsegment import Subsegment

from chalicelib import aws, tracing
from tests.support import create_image, deliver, drain, override_settings, upload_single


class _Captured:
    """An emitter that keeps what the recorder sends instead of sending it to a daemon."""

    def __init__(self) -> None:
        self.entities: list[Any] = []

    def send_entity(self, entity: Any) -> None:
        self.entities.append(entity)

    def set_daemon_address(self, address: str) -> None:
        """Nothing to address: no daemon."""

    def subsegments(self) -> list[Any]:
        """Every subsegment sent, depth first."""
        found: list[Any] = []
        stack = list(reversed(self.entities))
        while stack:
            entity = stack.pop()
            found.append(entity)
            stack.extend(reversed(entity.subsegments))
        return [e for e in found if isinstance(e, Subsegment)]


@pytest.fixture()
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Captured]:
    """Tracing on for this test only, with an in-memory emitter; off again afterwards."""
    emitter, threshold = xray_recorder.emitter, xray_recorder.streaming_threshold
    override_settings(monkeypatch, AWS_XRAY_SDK_ENABLED="true")
    global_sdk_config.set_sdk_enabled(True)  # follows the variable just set
    tracing.configure.cache_clear()
    captured = _Captured()
    # Keep the whole trace in one tree: no streaming of finished subsegments.
    xray_recorder.configure(emitter=captured, sampling=False, streaming_threshold=10_000)
    assert tracing.configure()
    yield captured
    monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "false")
    global_sdk_config.set_sdk_enabled(False)
    xray_recorder.configure(emitter=emitter, streaming_threshold=threshold)
    aws.reset()
    tracing.configure.cache_clear()


def _traced_import(client, env, data: bytes) -> dict[str, Any]:
    """Create (as project p1), upload and import an image inside one segment; the image."""
    xray_recorder.begin_segment("glint-test")
    try:
        image = create_image(client, project="p1")
        upload_single(client, image["id"], data)
        deliver(client, drain(env.queue_url))
    finally:
        xray_recorder.end_segment()
    return image


def test_import_records_annotated_subsegments(recorded, server_client, server_aws):
    data = os.urandom(1024 * 1024 + 7)
    image = _traced_import(server_client, server_aws, data)
    subsegments = recorded.subsegments()
    by_name = {s.name: s for s in subsegments}

    grant = by_name["POST /v2/images/:image_id/uploads"]
    assert grant.annotations["image_id"] == image["id"]
    assert grant.annotations["project"] == "admin"  # the caller's (upload_single is admin)
    assert grant.annotations["request_id"].startswith("req-")
    assert "POST /v2/images" in by_name

    hashed = by_name["hash"]
    assert {k: hashed.annotations[k] for k in ("image_id", "project", "bytes", "format")} == {
        "image_id": image["id"], "project": "p1", "bytes": len(data), "format": "raw"}
    assert by_name["copy"].annotations["bytes"] == len(data)
    for step in ("hash", "copy", "activate"):
        annotations = by_name[step].annotations
        assert (annotations["image_id"], annotations["project"]) == (image["id"], "p1"), step
        assert annotations["request_id"], step  # the worker invocation's
    assert "convert" not in by_name  # no formats are configured to convert to

    # Patched clients: a step's AWS calls are its children. (The copy's run in s3transfer's
    # threads, outside the step: in Lambda they attach to the function's segment instead.)
    assert "s3" in {child.name for child in by_name["hash"].subsegments}
    assert "dynamodb" in {child.name for child in by_name["activate"].subsegments}
    assert "dynamodb" in {child.name for child in grant.subsegments}
    names = [s.name for s in subsegments]
    assert names.index("hash") < names.index("copy") < names.index("activate")


def test_conversion_records_convert_and_upload_subsegments(recorded, server_client, server_aws,
                                                           monkeypatch, tmp_path):
    if not shutil.which("qemu-img"):
        pytest.skip("qemu-img not found: install qemu-utils")
    override_settings(monkeypatch, GLINT_CONVERT_TO="qcow2", GLINT_WORK_DIR=str(tmp_path))
    data = os.urandom(1024 * 1024)
    image = _traced_import(server_client, server_aws, data)
    by_name = {s.name: s for s in recorded.subsegments()}
    converted = by_name["convert"].annotations
    assert {k: converted[k] for k in ("image_id", "project", "bytes", "format")} == {
        "image_id": image["id"], "project": "p1", "bytes": len(data), "format": "qcow2"}
    assert by_name["upload"].annotations["image_id"] == image["id"]
