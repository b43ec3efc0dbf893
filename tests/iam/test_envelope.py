"""The Lambda envelope: each invocation gets its function's timeout, ephemeral storage and
memory from the synthesized stack, and work that could not finish in Lambda fails the same
way."""
from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chalicelib import aws
from chalicelib.config import get_settings
from glint_local.envelope import Envelope, InvocationFailed, InvocationStopped
from glint_local.environments import Environments
from glint_local.pump import EventPump, queue_arn
from glint_local.sandbox import FunctionStopped
from glint_local.stack import Function
from tests.iam.conftest import Runtime

WORKER = "import_worker"
PROBE = "probe"  # tests/iam/probe_app.py


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


def test_a_message_the_role_may_not_delete_comes_back(runtime: Runtime, tmp_path: Path
                                                     ) -> None:
    # The worker's role consumes the import queue only; the event source mapping polls and
    # deletes with that role.
    url = _queue("iam-not-the-import-queue", visibility=1)
    roles = Envelope(runtime.world.functions, tmp_path, runtime.world.credentials)
    pump = EventPump(app=None, sqs=aws.sqs(), queue_urls={}, region=get_settings().region,
                     invoker=roles)
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



@pytest.fixture
def probes(tmp_path: Path) -> Any:
    """Execution environments of tests/iam/probe_app.py's function with these limits."""
    made: list[Environments] = []

    def environments(**limits: Any) -> Environments:
        function = Function(logical_id="Probe", handler=PROBE, timeout_seconds=10,
                            memory_mb=256, ephemeral_mb=512, statements=(), trust_policy={})
        made.append(Environments({PROBE: dataclasses.replace(function, **limits)}, tmp_path,
                                 app_module="tests.iam.probe_app"))
        return made[-1]

    yield environments
    for environments in made:
        environments.close()


def test_the_runtime_runs_each_function_in_its_own_environments(runtime: Runtime) -> None:
    assert isinstance(runtime.world.invoker, Environments)


def test_an_environment_is_reused_while_warm_and_gets_its_limits(
        probes: Any, caplog: pytest.LogCaptureFixture) -> None:
    environments = probes(memory_mb=300, timeout_seconds=5)
    with caplog.at_level(logging.INFO, logger="glint_local.environments"):
        first = environments.invoke_event(PROBE, None, {"hold_mib": 32})
    (report,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("REPORT")]
    assert "Memory Size: 300 MB" in report
    assert int(report.rsplit("Max Memory Used: ", 1)[1].split()[0]) > 32  # runtime + held
    second = environments.invoke_event(PROBE, None, {})
    assert first["pid"] == second["pid"] != os.getpid()  # warm, and not this process
    assert first["held"] == 32 * 1024 * 1024 and first["memory_mb"] == 300
    assert 4000 < second["remaining_ms"] <= 5000


def test_memory_past_the_function_size_ends_its_environment(probes: Any) -> None:
    environments = probes(memory_mb=256)
    before = environments.invoke_event(PROBE, None, {})["pid"]
    with pytest.raises(InvocationStopped, match=r"signal: killed \(out of memory: \d+ MiB used "
                                                r"of 256 MiB\)"):
        environments.invoke_event(PROBE, None, {"hold_mib": 320, "sleep": 2})
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the environment is gone
    after = environments.invoke_event(PROBE, None, {"hold_mib": 64})  # a cold start
    assert after["pid"] != before and after["held"] == 64 * 1024 * 1024


def test_a_memory_spike_between_two_reads_still_ends_the_environment(probes: Any) -> None:
    # Allocated and freed within one watch interval: the kernel's high-water mark saw it.
    with pytest.raises(InvocationStopped, match="out of memory"):
        probes(memory_mb=256).invoke_event(PROBE, None, {"hold_mib": 320})


def test_work_past_the_deadline_ends_its_environment_before_its_late_call(
        runtime: Runtime, probes: Any) -> None:
    environments = probes(timeout_seconds=1)
    url = _queue("iam-environment-late")
    environments.invoke_event(PROBE, None, {})  # warm: the deadline is the invocation's alone
    started = time.monotonic()
    with pytest.raises(InvocationStopped, match="Task timed out after 1.00 seconds"):
        environments.invoke_event(PROBE, None, {"sleep": 2, "then_send": url})
    assert time.monotonic() - started < 1.9
    time.sleep(1.5)  # past the moment the call would have been made
    assert "Messages" not in aws.sqs().receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_a_function_that_raises_fails_its_invocation_with_the_reason(probes: Any) -> None:
    with pytest.raises(InvocationFailed, match="ValueError: no such image"):
        probes().invoke_event(PROBE, None, {"fail": "no such image"})
