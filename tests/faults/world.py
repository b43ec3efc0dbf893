"""One run of a use case against in-process moto: the client's steps (armed for the crash
harness), the worker as Lambda drives it (delete on success, redeliver after the visibility
timeout, dead-letter after the redrive limit), and the recovery machinery on a clock moved
past every grace period."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from chalice.app import ScheduledEventConfig
from chalice.test import Client

from chalicelib import aws, topology
from chalicelib.config import get_settings
from glint_local.pump import scheduled_event, sqs_event
from tests.faults.crash import Boundary, Crash, Gate, Injector
from tests.support import Env

# Past every deadline the pipeline keeps: upload URLs, leases, reaping grace, the scrubber's
# delay, staging expiry, and any orphan-sweep grace under a month.
LATER_SECONDS = 31 * 24 * 3600
# Redelivery rounds: more than the redrive limit, so that poison messages reach the DLQ.
_ROUNDS = topology.MAX_RECEIVE_COUNT + 3


class Abandoned(Exception):
    """The client's script stopped: the process it was talking to crashed."""


@dataclass
class World:
    """The client, the provisioned resources and the crash harness of one test."""

    client: Client
    env: Env
    injector: Injector
    monkeypatch: pytest.MonkeyPatch
    crashed_at: str | None = None
    grant: dict[str, Any] = field(default_factory=dict)
    gates: list[Gate] = field(default_factory=list)
    threads: list[Background] = field(default_factory=list)

    # --- the client's side -------------------------------------------------------------
    def step(self, name: str, action: Callable[[], Any]) -> Any:
        """Run one step of a use case with the crash harness armed; a crash abandons the
        script (`crashed_at` says where)."""
        try:
            with self.injector.armed():
                return action()
        except Crash as crash:
            self.crashed_at = f"{name}: {crash}"
            raise Abandoned(name) from None

    def call(self, method: str, path: str, body: Any = None, project: str = "admin",
             roles: str = "member", content_type: str = "application/json",
             raw: bytes | None = None) -> tuple[int, Any]:
        """One API request through Chalice's test client; (status, parsed body)."""
        headers = {"X-Project-Id": project, "X-Roles": roles, "Content-Type": content_type}
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body))
        response = self.client.http.request(method, path, headers=headers, body=payload)
        parsed = None
        if response.body:
            try:
                parsed = json.loads(response.body)
            except ValueError:
                parsed = response.body
        return response.status_code, parsed

    def run_worker(self) -> int:
        """The worker on every message now on the import queue, as one armed step per
        message batch; returns how many were handled."""
        handled = 0
        for _ in range(4):  # a fetch produces an S3 event, which produces the import
            messages = self.receive(self.env.queue_url)
            if not messages:
                return handled
            for message in messages:
                self.step("worker", lambda m=message: self.handle(m))
                handled += 1
        return handled

    def direct_upload(self, project: str, data: bytes, size: int | None = None) -> str:
        """Unarmed: a new image, a single presigned PUT granted for `size` (default: the
        data's), and `data` sent with it; returns the image id."""
        status, image = self.call("POST", "/v2/images", {
            "name": "f", "disk_format": "raw", "container_format": "bare"}, project=project)
        assert status == 201, image
        status, grant = self.call("POST", f"/v2/images/{image['id']}/uploads",
                                  {"size": len(data) if size is None else size},
                                  project=project)
        assert status == 201, grant
        self.grant = grant
        requests.put(grant["url"], data=data, headers=grant["headers"],
                     timeout=30).raise_for_status()
        return image["id"]

    def image(self, image_id: str, project: str = "admin") -> dict[str, Any] | None:
        """The image as the API shows it (None once it is gone)."""
        status, image = self.call("GET", f"/v2/images/{image_id}", project=project,
                                  roles="admin")
        return image if status == 200 else None

    def hold(self, where: Callable[[Boundary], bool]) -> Gate:
        """A gate on every client's boundaries (opened at the latest when the test ends)."""
        gate = Gate(where)
        self.gates.append(gate)
        self.injector.on_boundary.append(gate)
        return gate

    def background(self, action: Callable[[], Any]) -> Background:
        """`action` on its own thread (joined at the latest when the test ends, before the
        mock goes: a thread left running would reach for the real AWS endpoints)."""
        thread = Background(action)
        self.threads.append(thread)
        return thread

    def finish(self) -> None:
        """Open every gate and wait for every thread this test started."""
        for gate in self.gates:
            gate.open()
        for thread in self.threads:
            with contextlib.suppress(BaseException):
                thread.join()

    # --- what Lambda and EventBridge do -----------------------------------------------
    def receive(self, url: str | None = None) -> list[dict[str, Any]]:
        """The messages now visible on a queue (the import queue by default), S3's test
        events dropped."""
        url = url or self.env.queue_url
        messages = aws.sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                             AttributeNames=["All"]).get("Messages", [])
        test_events = [m for m in messages if "s3:TestEvent" in m["Body"]]
        for message in test_events:
            aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return [m for m in messages if m not in test_events]

    def invoke(self, message: dict[str, Any], handler: str = "import_worker") -> None:
        """Invoke a queue's handler with one message (what Lambda's poller does)."""
        self.client.lambda_.invoke(handler, sqs_event([message], _ARN, get_settings().region))

    def handle(self, message: dict[str, Any], handler: str = "import_worker",
               url: str | None = None) -> None:
        """`invoke`, then delete the message, or on failure let it come back."""
        url = url or self.env.queue_url
        try:
            self.invoke(message, handler)
        except BaseException:
            # Lambda's view: the invocation failed, so the message comes back once its
            # visibility timeout ends; that moment is now.
            aws.sqs().change_message_visibility(QueueUrl=url, VisibilityTimeout=0,
                                                ReceiptHandle=message["ReceiptHandle"])
            raise
        aws.sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def redeliver(self) -> int:
        """Deliver what is on the import queue until it is empty (failures come back, and
        reach the dead-letter handler after the redrive limit); returns how many deliveries
        there were."""
        dlq_url = self.env.resources.queue_urls[topology.import_queue(get_settings()).dlq_name]
        delivered = 0
        for _ in range(_ROUNDS):
            messages = self.receive(self.env.queue_url)
            delivered += len(messages)
            for message in messages:
                try:
                    self.handle(message)
                except Exception:  # noqa: BLE001 - redelivered in the next round
                    pass
            dead = self.receive(dlq_url)
            for message in dead:
                self.handle(message, "import_dead_letters", dlq_url)
            delivered += len(dead)
            if not messages and not dead:
                break
        return delivered

    def run_schedules(self, now: float) -> None:
        """Every scheduled function of the app (reaper, scrubber, sweeps), at `now`."""
        with moved_clock(self.monkeypatch, now):
            for source in self.client._app.event_sources:  # noqa: SLF001 - the app under test
                if isinstance(source, ScheduledEventConfig):
                    rule = f"arn:aws:events:us-east-1:123456789012:rule/{source.name}"
                    self.client.lambda_.invoke(source.name, scheduled_event(
                        rule, get_settings().region))

    def recover(self) -> None:
        """Everything that finishes what a crash left: redelivery, then the schedules past
        every grace period; again if they sent work (what the worker then leaves behind)."""
        self.redeliver()
        self.run_schedules(time.time() + LATER_SECONDS)
        if self.redeliver():
            self.run_schedules(time.time() + 2 * LATER_SECONDS)
            self.redeliver()


_ARN = "arn:aws:sqs:us-east-1:123456789012:imports"


class Background(threading.Thread):
    """A call on its own thread; `join()` re-raises what it raised."""

    def __init__(self, action: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self._action = action
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self._action()
        except BaseException as exc:  # noqa: BLE001 - handed to the joining thread
            self.error = exc

    def join(self, timeout: float | None = 60) -> None:
        super().join(timeout)
        assert not self.is_alive(), "the background call did not finish"
        if self.error is not None:
            raise self.error


@contextmanager
def moved_clock(monkeypatch: pytest.MonkeyPatch, now: float) -> Iterator[None]:
    """`time.time()` reads `now` (plus the real time elapsed) inside the block."""
    offset = now - time.time()
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real() + offset)
        yield
