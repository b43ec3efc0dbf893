"""The import task as the worker keeps it: processing when claimed, progress while hashing,
success or failure with the reason; the reaper fails the tasks that imports left behind."""
from __future__ import annotations

import hashlib
import os
import time

import pytest
import requests

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.domain.uploads import MIB
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.recovery import reap
from tests.support import call, create_image, deliver, drain, override_settings

LATER = time.time() + get_settings().reap_after_seconds + 3600


@pytest.fixture()
def task_events(monkeypatch):
    """Every task event published, as (name, status, message)."""
    seen = []
    original = events.publish

    def record(name, detail, client=None):
        if name.startswith("task."):
            seen.append((name, detail["task"]["status"], detail["task"].get("message")))
        original(name, detail, client)

    monkeypatch.setattr(events, "publish", record)
    return seen


@pytest.fixture()
def notes(monkeypatch):
    """Every progress message written, in order."""
    written = []
    original = task_db.note

    def record(task_id, message, now):
        written.append(message)
        return original(task_id, message, now)

    monkeypatch.setattr(task_db, "note", record)
    return written


def _grant(client, size, **extra):
    image = create_image(client)
    status, grant, _ = call(client, "POST", f"/v2/images/{image['id']}/uploads",
                            {"size": size, **extra})
    assert status == 201, grant
    return image["id"], grant


def _task_of(client, image_id):
    [task] = call(client, "GET", f"/v2/images/{image_id}/tasks")[1]["tasks"]
    return task


def test_presigned_upload_task_runs_pending_processing_success(server_client, server_aws,
                                                               task_events, notes,
                                                               monkeypatch):
    monkeypatch.setattr(task_progress, "PROGRESS_BYTES", MIB)  # a note per 1 MiB chunk
    override_settings(monkeypatch, GLINT_READ_PART_BYTES=str(MIB))  # read in 1 MiB ranges
    data = os.urandom(3 * MIB + 17)
    image_id, grant = _grant(server_client, len(data))
    assert _task_of(server_client, image_id)["status"] == "pending"
    requests.put(grant["url"], data=data, headers=grant["headers"], timeout=30).raise_for_status()
    messages = drain(server_aws.queue_url)
    deliver(server_client, messages)
    assert [(name, status) for name, status, _ in task_events] == [
        (events.TASK_CREATE, "pending"), (events.TASK_PROCESSING, "processing"),
        (events.TASK_SUCCESS, "success")]
    assert notes == ["Copied 1 MiB of 3 MiB", "Copied 2 MiB of 3 MiB", "Copied 3 MiB of 3 MiB"]
    task = _task_of(server_client, image_id)
    assert task["status"] == "success" and task["result"] == {"image_id": image_id}
    assert task["expires_at"] is not None
    assert image_db.get(image_id).os_hash_value == hashlib.sha512(data).hexdigest()
    # S3 may deliver the event again: the finished task stays as it is, nothing published.
    deliver(server_client, messages)
    assert _task_of(server_client, image_id) == task and len(task_events) == 3


def test_progress_is_throttled_by_bytes_or_time(monkeypatch):
    written = []
    monkeypatch.setattr(task_db, "note", lambda task_id, message, now: written.append(message)
                        or True)
    now = [0.0]
    progress = task_progress.Progress("t", 100 * MIB, lambda: now[0])
    for _ in range(10):  # 10 KiB in 4 s: nothing due yet
        now[0] += 0.4
        progress.observe(b"x" * 1024)
    assert written == []
    now[0] += 1.0  # 5 s since the start
    progress.observe(b"x" * 1024)
    assert written == ["Copied 11 KiB of 100 MiB"]
    progress.observe(b"x" * (64 * MIB))  # 64 MiB more, at once
    assert written[-1] == "Copied 64 MiB of 100 MiB"


def test_rejected_upload_fails_its_task_with_the_reason(server_client, server_aws, task_events):
    data = os.urandom(2000)
    image_id, grant = _grant(server_client, len(data), sha256="0" * 64)
    requests.put(grant["url"], data=data, headers=grant["headers"], timeout=30)
    deliver(server_client, drain(server_aws.queue_url))
    image = image_db.get(image_id)
    assert image.status == "queued" and "sha256" in image.import_error
    task = _task_of(server_client, image_id)
    assert task["status"] == "failure" and task["message"] == image.import_error
    assert task["result"] is None and task["expires_at"] is not None
    assert task_events[-1][:2] == (events.TASK_FAILURE, "failure")


def test_reaper_fails_the_task_of_an_abandoned_upload(server_client, server_aws):
    image_id, _ = _grant(server_client, 100)
    assert reap(LATER).failed == (image_id,)
    task = _task_of(server_client, image_id)
    assert task["status"] == "failure" and "abandoned" in task["message"]
    assert task["message"] == image_db.get(image_id).import_error


def test_reaper_fails_tasks_left_by_aborted_superseded_and_deleted_imports(server_client,
                                                                          server_aws):
    aborted, grant = _grant(server_client, 100)
    assert call(server_client, "DELETE", grant["self"])[0] in (200, 204)
    superseded, _ = _grant(server_client, 100)
    call(server_client, "POST", f"/v2/images/{superseded}/uploads", {"size": 200})
    deleted, _ = _grant(server_client, 100)
    deleted_task = _task_of(server_client, deleted)["id"]
    assert call(server_client, "DELETE", f"/v2/images/{deleted}")[0] == 204
    assert reap(time.time()).orphaned_tasks == ()  # not yet past the grace period
    result = reap(LATER)
    newer, older = call(server_client, "GET", f"/v2/images/{superseded}/tasks")[1]["tasks"]
    assert set(result.orphaned_tasks) == {_task_of(server_client, aborted)["id"], older["id"],
                                          deleted_task}
    assert older["status"] == "failure" and "aborted or replaced" in older["message"]
    assert "deleted" in task_db.get(deleted_task).message
    # The newer upload's URLs expired unused too: the image's own reaper rule failed it.
    assert newer["status"] == "failure" and "Upload abandoned" in newer["message"]
