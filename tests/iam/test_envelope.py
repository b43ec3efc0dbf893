"""The Lambda envelope: each invocation gets its function's timeout and ephemeral storage
from the synthesized stack, and work that could not finish in Lambda fails the same way."""
from __future__ import annotations

import dataclasses
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.config import get_settings
from glint_local.envelope import Envelope, InvocationStopped
from glint_local.pump import EventPump, queue_arn
from glint_local.sandbox import FunctionStopped
from tests.iam.conftest import Runtime

WORKER = "import_worker"


def _worker_envelope(runtime: Runtime, work_dir: Path, **limits: Any) -> Envelope:
    """An envelope whose worker has these limits instead of the stack's."""
    worker = dataclasses.replace(runtime.world.functions[WORKER], **limits)
    return Envelope({WORKER: worker}, work_dir)


def _queue(name: str, visibility: int = 30) -> str:
    return aws.sqs().create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(visibility)})["QueueUrl"]


def test_the_function_sees_its_memory_and_deadline(runtime: Runtime) -> None:
    worker = runtime.world.functions[WORKER]
    memory, remaining = runtime.world.invoker.invoke(
        WORKER, lambda context: (context.memory_limit_in_mb,
                                 context.get_remaining_time_in_millis()))
    assert memory == worker.memory_mb
    assert (worker.timeout_seconds - 5) * 1000 < remaining <= worker.timeout_seconds * 1000


def test_work_past_the_deadline_fails_and_its_late_calls_never_reach_aws(
        runtime: Runtime, tmp_path: Path) -> None:
    envelope = _worker_envelope(runtime, tmp_path, timeout_seconds=1)
    url = _queue("iam-envelope-late")
    late: dict[str, BaseException] = {}
    finished = threading.Event()

    def slow(_context: Any) -> None:
        time.sleep(2)
        try:
            aws.sqs().send_message(QueueUrl=url, MessageBody="sent after the deadline")
        except FunctionStopped as exc:
            late["error"] = exc
        finally:
            finished.set()

    started = time.monotonic()
    with pytest.raises(InvocationStopped, match="Task timed out after 1.00 seconds"):
        envelope.invoke(WORKER, slow)
    assert time.monotonic() - started < 1.9
    assert finished.wait(10) and isinstance(late.get("error"), FunctionStopped)
    assert "Messages" not in aws.sqs().receive_message(QueueUrl=url, WaitTimeSeconds=0)


def _receive(url: str) -> dict[str, Any]:
    (message,) = aws.sqs().receive_message(QueueUrl=url, WaitTimeSeconds=5,
                                          AttributeNames=["All"])["Messages"]
    return message


def test_a_timed_out_message_is_redelivered(runtime: Runtime, tmp_path: Path) -> None:
    envelope = _worker_envelope(runtime, tmp_path, timeout_seconds=1)
    url = _queue("iam-envelope-redelivery", visibility=1)
    pump = EventPump(app=None, sqs=aws.sqs(), queue_urls={}, region=get_settings().region,
                     invoker=envelope)
    aws.sqs().send_message(QueueUrl=url, MessageBody="work")
    first = _receive(url)
    assert pump.deliver(lambda event, context: time.sleep(3), WORKER, [first], url,
                        queue_arn(aws.sqs(), url)) is False
    again = _receive(url)  # back after the visibility timeout, as Lambda's retry would see it
    assert again["MessageId"] == first["MessageId"]
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert pump.deliver(lambda event, context: None, WORKER, [again], url,
                        queue_arn(aws.sqs(), url)) is True
    assert "Messages" not in aws.sqs().receive_message(QueueUrl=url, WaitTimeSeconds=2)


def test_a_message_the_role_may_not_delete_comes_back(runtime: Runtime) -> None:
    # The worker's role consumes the import queue only; the event source mapping polls and
    # deletes with that role.
    url = _queue("iam-not-the-import-queue", visibility=1)
    pump = EventPump(app=None, sqs=aws.sqs(), queue_urls={}, region=get_settings().region,
                     invoker=runtime.world.invoker)
    aws.sqs().send_message(QueueUrl=url, MessageBody="work")
    first = _receive(url)
    assert pump.deliver(lambda event, context: None, WORKER, [first], url,
                        queue_arn(aws.sqs(), url)) is False
    assert _receive(url)["MessageId"] == first["MessageId"]


def test_temp_space_past_the_ephemeral_storage_fails(runtime: Runtime) -> None:
    work_dir = Path(get_settings().work_dir)  # where the functions' temporary files go
    envelope = _worker_envelope(runtime, work_dir, ephemeral_mb=1)

    def write(size: int) -> Any:
        def call(_context: Any) -> None:
            path = work_dir / f"scratch-{size}"
            try:
                path.write_bytes(os.urandom(size))
                time.sleep(0.5)
            finally:
                path.unlink()
        return call

    envelope.invoke(WORKER, write(256 * 1024))
    with pytest.raises(InvocationStopped, match="ephemeral storage full"):
        envelope.invoke(WORKER, write(2 * 1024 * 1024))

