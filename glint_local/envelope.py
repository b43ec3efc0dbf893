"""How the local runtime invokes a function: directly (`Invoker`), or inside the envelope the
deployed stack gives it (`Envelope`): its role's credentials, its timeout and its ephemeral
storage, as the synthesized template defines them; with memory too, each in a process of its
own (glint_local.environments).

The deadline: the invocation runs on a thread of its own; when the function's timeout passes,
the caller gets InvocationStopped (the pump then leaves the message for redelivery, the HTTP
front answers as API Gateway would) and the invocation is ended, so anything it still does
against AWS fails (glint_local.sandbox). Ephemeral storage: the functions' work directory is
measured while an invocation runs; past the limit, the invocation ends the same way.
In this shared process memory is handed to the function's context but cannot be enforced.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from botocore.credentials import Credentials
from chalice.local import LambdaContext

from glint_local import sandbox
from glint_local.stack import Function

T = TypeVar("T")
WATCH_SECONDS = 0.05
MIB = 1024 * 1024
# Chalice packages the REST API's function with the handler `app.app`.
API_HANDLER = "app"


class InvocationStopped(Exception):
    """The invocation passed its deadline (Lambda's `Task timed out`), its storage limit or
    its memory."""


class InvocationFailed(Exception):
    """The function raised in its execution environment (the message carries the traceback),
    or the environment died."""


def handler_of(app: Any, name: str) -> Any:
    """The callable Lambda invokes for the function Chalice names `name`."""
    return app if name == API_HANDLER else app.handler_map[name]


class Invoker:
    """Runs a function's handler in the calling thread, with no limits (the plain runtime)."""

    def invoke(self, handler: str, call: Callable[[LambdaContext], T],
               deadline_seconds: float | None = None) -> T:
        """Run `call` as one invocation of the function Chalice names `handler`."""
        return call(LambdaContext(function_name=handler, memory_size=1024,
                                  max_runtime_ms=900_000))

    def invoke_event(self, name: str, target: Callable[[Any, LambdaContext], T], event: Any,
                     deadline_seconds: float | None = None) -> T:
        """Run `target(event, context)` as one invocation of the function `name` (the app's
        API or one of its handlers, `target` being what `handler_of` names)."""
        return self.invoke(name, lambda context: target(event, context), deadline_seconds)

    def close(self) -> None:
        """Release what the invocations left running (nothing here)."""

    def acting_as(self, handler: str) -> AbstractContextManager[None]:
        """AWS calls made for the function by the platform (an SQS event source polling)."""
        return nullcontext()


class Envelope(Invoker):
    """Each invocation gets its function's role, timeout and ephemeral storage."""

    def __init__(self, functions: dict[str, Function], work_dir: Path,
                 credentials: dict[str, Credentials] | None = None, limits: bool = True) -> None:
        self._functions, self._work_dir = functions, work_dir
        self._credentials, self._limits = credentials or {}, limits

    def invoke(self, handler: str, call: Callable[[LambdaContext], T],
               deadline_seconds: float | None = None) -> T:
        """Run `call` as Lambda would; `deadline_seconds` may only shorten the function's
        timeout (API Gateway stops waiting before the API function's timeout).

        Raises:
            InvocationStopped: the deadline passed or /tmp overflowed first.
        """
        function = self._functions[handler]
        invocation = sandbox.Invocation(function, self._credentials.get(handler))
        seconds = allowed_seconds(function, deadline_seconds)
        context = LambdaContext(function_name=function.logical_id,
                                memory_size=function.memory_mb,
                                max_runtime_ms=int(seconds * 1000))
        if not self._limits:
            with sandbox.running(invocation):
                return call(context)
        outcome: dict[str, Any] = {}

        def run() -> None:
            with sandbox.running(invocation):
                try:
                    outcome["result"] = call(context)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    outcome["error"] = exc

        worker = threading.Thread(target=run, daemon=True, name=f"invoke-{function.logical_id}")
        worker.start()
        self._watch(worker, invocation, seconds)
        if invocation.ended.is_set():
            raise InvocationStopped(invocation.reason)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def acting_as(self, handler: str) -> AbstractContextManager[None]:
        return sandbox.running(sandbox.Invocation(self._functions[handler],
                                                  self._credentials.get(handler)))

    def _watch(self, worker: threading.Thread, invocation: sandbox.Invocation,
               seconds: float) -> None:
        """Wait for the invocation; end it at its deadline or when /tmp overflows."""
        deadline = time.monotonic() + seconds
        while True:
            worker.join(WATCH_SECONDS)
            if not worker.is_alive():
                return
            passed = limit_passed(invocation.function, self._work_dir, seconds, deadline)
            if passed:
                invocation.end(passed)
                return


def allowed_seconds(function: Function, deadline_seconds: float | None) -> float:
    """The function's timeout, or the caller's `deadline_seconds` when shorter."""
    return min(function.timeout_seconds, deadline_seconds or function.timeout_seconds)


def limit_passed(function: Function, work_dir: Path, seconds: float, deadline: float,
                 resident_bytes: int = 0) -> str | None:
    """Why a running invocation of `function` must end now (Lambda's words), or None: its
    `deadline` (time.monotonic) passed, /tmp overflowed, or its environment's memory did."""
    out_of_memory = memory_passed(function, resident_bytes)
    if out_of_memory:
        return out_of_memory
    used = disk_usage(work_dir)
    if used > function.ephemeral_mb * MIB:
        return f"ephemeral storage full: {used // MIB} MiB used of {function.ephemeral_mb} MiB"
    if time.monotonic() > deadline:
        return f"Task timed out after {seconds:.2f} seconds"
    return None


def memory_passed(function: Function, resident_bytes: int) -> str | None:
    """Lambda's reason when `resident_bytes` is past the function's memory size, else None."""
    if resident_bytes <= function.memory_mb * MIB:
        return None
    return (f"Runtime exited with error: signal: killed (out of memory: "
            f"{resident_bytes // MIB} MiB used of {function.memory_mb} MiB)")


def disk_usage(root: Path) -> int:
    """Bytes allocated to the files under `root` (sparse files count what they hold)."""
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except FileNotFoundError:
                continue  # removed while walking
    return total


@contextmanager
def work_directory(root: Path) -> Iterator[Path]:
    """The functions' /tmp: GLINT_WORK_DIR points at `root` for the block."""
    previous = os.environ.get("GLINT_WORK_DIR")
    root.mkdir(parents=True, exist_ok=True)
    os.environ["GLINT_WORK_DIR"] = str(root)
    try:
        yield root
    finally:
        if previous is None:
            os.environ.pop("GLINT_WORK_DIR", None)
        else:
            os.environ["GLINT_WORK_DIR"] = previous
