"""The crash harness: botocore event hooks on every client Glint makes (its boto3 clients from
chalicelib/aws.py and pynamodb's own botocore client) count the side-effect boundaries of a
step and kill the process at one of them.

A boundary is the moment before or after a DynamoDB write, any S3 call, an SQS send or an
EventBridge put. Killing is raising `Crash`, a BaseException: Glint catches `Exception` at its
outer edges (events.publish, the API's error mapping), so nothing of Glint's swallows it.
After the crash the process is dead: every later boundary raises `Crash` again, so cleanup
code (an `except BaseException` that gives quota back) cannot reach AWS either, as it could
not after a real crash. Boundaries on other threads (boto3's transfer manager copies on a
pool) count and crash too; a crash there also kills the step that started them."""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.client import ClientCreator
from botocore.exceptions import EndpointConnectionError
from pynamodb.connection import base as pynamodb_base
from pynamodb.models import Model

_WRITES = {"dynamodb": {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems",
                        "BatchWriteItem"},
           "sqs": {"SendMessage", "SendMessageBatch"},
           "eventbridge": {"PutEvents"}}


class Crash(BaseException):
    """The process died at a side-effect boundary."""


@dataclass(frozen=True, slots=True)
class Boundary:
    """One side-effect boundary: `phase` is before or after the call."""

    phase: str
    service: str
    operation: str
    params: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.phase} {self.service}.{self.operation}{_target(self)}"


def _target(boundary: Boundary) -> str:
    """A short hint of what the call touches: a table, an S3 key prefix, an event name."""
    params = boundary.params
    if boundary.service == "dynamodb":
        table = params.get("TableName") or "txn"
        return f"[{str(table).rsplit('-', 1)[-1]}]"
    if boundary.service == "s3" and "Key" in params:
        return f"[{str(params['Key']).split('/', 1)[0]}]"
    if boundary.service == "eventbridge":
        return f"[{','.join(e.get('DetailType', '') for e in params.get('Entries', []))}]"
    return ""


def is_boundary(service: str, operation: str) -> bool:
    """DynamoDB writes, every S3 call, SQS sends and EventBridge puts."""
    return service == "s3" or operation in _WRITES.get(service, ())


Watcher = Callable[[Boundary], None]


@dataclass
class Injector:
    """Counts boundaries while armed and crashes at index `crash_at`; records every event
    EventBridge accepted (armed or not) and runs `on_boundary` callbacks (for races)."""

    crash_at: int | None = None
    crash_when: Callable[[Boundary], bool] | None = None
    failure: Callable[[Boundary], BaseException | None] | None = None
    on_boundary: list[Watcher] = field(default_factory=list)
    trace: list[Boundary] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    dead: bool = False
    armed_flag: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def armed(self) -> Iterator[None]:
        """Count (and crash) the boundaries of the block; a crash in a helper thread that the
        block survived still kills it."""
        self.armed_flag, self.dead = True, False
        try:
            yield
            if self.dead:
                raise Crash("died on a helper thread")
        finally:
            self.armed_flag = False

    def before(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        self._boundary("before", event_name, params)

    def after(self, event_name: str, params: dict[str, Any] | None = None,
              parsed: dict[str, Any] | None = None, **_: Any) -> None:
        if event_name.endswith("eventbridge.PutEvents"):
            self._record_events(params or {}, parsed or {})
        self._boundary("after", event_name, params or {})

    def _boundary(self, phase: str, event_name: str, params: dict[str, Any]) -> None:
        _, service, operation = event_name.split(".", 2)
        if not is_boundary(service, operation):
            return
        boundary = Boundary(phase, service, operation, params)
        for callback in self.on_boundary:
            callback(boundary)
        if self.failure is not None and (error := self.failure(boundary)) is not None:
            raise error
        if not self.armed_flag:
            return
        with self._lock:
            if self.dead:
                raise Crash(f"dead: {boundary.label}")
            index = len(self.trace)
            self.trace.append(boundary)
            if index == self.crash_at or (self.crash_when and self.crash_when(boundary)):
                self.dead = True
                raise Crash(f"crash #{index}: {boundary.label}")

    def _record_events(self, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        results = parsed.get("Entries", [])
        for entry, result in zip(params.get("Entries", []), results):
            if "EventId" in result:
                self.published.append({"name": entry.get("DetailType"),
                                       "detail": json.loads(entry.get("Detail", "{}"))})


class Hooks:
    """Routes every botocore client's call events to the current injector."""

    def __init__(self) -> None:
        self.injector = Injector()

    def remember(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        # before-call sees the serialized request; keep the call's own parameters for it.
        context["fault_params"] = dict(params)

    def before(self, event_name: str, context: dict[str, Any], **_: Any) -> None:
        self.injector.before(event_name, context.get("fault_params", {}))

    def after(self, event_name: str, context: dict[str, Any], parsed: Any = None,
              **_: Any) -> None:
        self.injector.after(event_name, context.get("fault_params", {}), parsed)


HOOKS = Hooks()
_installed: list[Any] = []


def install() -> None:
    """Attach the hooks to every client created from now on (once per process), and make
    pynamodb build its clients again so that they have them too."""
    if not _installed:
        create = ClientCreator.create_client

        def create_client(self: ClientCreator, *args: Any, **kwargs: Any) -> Any:
            client = create(self, *args, **kwargs)
            client.meta.events.register("before-parameter-build", HOOKS.remember)
            client.meta.events.register("before-call", HOOKS.before)
            client.meta.events.register("after-call", HOOKS.after)
            return client

        ClientCreator.create_client = create_client  # type: ignore[method-assign]
        # pynamodb makes a botocore session per connection and thread, and each one parses
        # botocore's endpoint and service files again (seconds per test on a busy machine):
        # one shared session keeps the parsed files.
        pynamodb_base.get_session = functools.cache(botocore.session.get_session)
        _installed.append(create)
        for model in _models(Model):  # clients made before the hooks: make them again
            model._connection = None


def _models(base: type[Model]) -> Iterator[type[Model]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _models(sub)


class Gate:
    """Holds the first call that matches `where` at its boundary until `open()`: the moment
    a concurrent request runs, on a real thread against the same moto."""

    def __init__(self, where: Callable[[Boundary], bool]) -> None:
        self._where = where
        self._lock = threading.Lock()
        self._used = False
        self.reached = threading.Event()
        self._opened = threading.Event()

    def __call__(self, boundary: Boundary) -> None:
        with self._lock:
            if self._used or not self._where(boundary):
                return
            self._used = True
        self.reached.set()
        self._opened.wait(timeout=60)

    def wait(self) -> None:
        """Until a call has reached the gate.

        Raises:
            AssertionError: none did.
        """
        assert self.reached.wait(timeout=60), "no call reached the gate"

    def open(self) -> None:
        self._opened.set()


def failing(where: Callable[[Boundary], bool], times: int = 1,
            ) -> Callable[[Boundary], BaseException | None]:
    """A failure for `Injector.failure`: the first `times` matching calls fail as an
    unreachable endpoint would (botocore's own error, which Glint sees as a 5xx)."""
    left = [times]

    def fail(boundary: Boundary) -> BaseException | None:
        if left[0] <= 0 or not where(boundary):
            return None
        left[0] -= 1
        return EndpointConnectionError(endpoint_url=f"https://{boundary.service}.invalid")
    return fail


def at(phase: str, service: str, operation: str, table: str | None = None
       ) -> Callable[[Boundary], bool]:
    """A boundary matcher: `phase` of `service.operation` (on a table named ...-`table`)."""
    def matches(boundary: Boundary) -> bool:
        return (boundary.phase, boundary.service, boundary.operation) == (
            phase, service, operation) and (
            table is None or str(boundary.params.get("TableName", "")).endswith(f"-{table}"))
    return matches
