"""Execution environments: the Lambda envelope with memory enforced. Each invocation of the
app runs in a process of its function (glint_local.function_host), started on first use and
reused while idle, as Lambda starts and reuses execution environments; concurrent
invocations get an environment each.

Lambda counts an environment's whole memory (the runtime, the libraries and the work) against
the function's memory size, and ends the environment that goes past it. So does this: while
an invocation runs, its environment's peak resident memory (the kernel's high-water mark, so
a spike between two reads counts too), the functions' /tmp and the deadline are read every
50 ms; past any of them the environment is killed (nothing it still does reaches AWS) and the
caller gets InvocationStopped with Lambda's reason. The next invocation starts a fresh
environment (a cold start). Each invocation ends with Lambda's REPORT line: duration and max
memory used."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from chalice.local import LambdaContext

from glint_local.envelope import (MIB, WATCH_SECONDS, Envelope, InvocationFailed,
                                  InvocationStopped, allowed_seconds, limit_passed,
                                  memory_passed)
from glint_local.stack import PROJECT, Function

T = TypeVar("T")
log = logging.getLogger(__name__)
# A cold start imports the app (1-3 s); Lambda's init phase may take 10 s.
_INIT_SECONDS = 10


class Environments(Envelope):
    """The envelope (role, timeout, /tmp) plus memory: app invocations (`invoke_event`) run in
    execution environments; `invoke` still runs a callable in this process (tests)."""

    def __init__(self, functions: dict[str, Function], work_dir: Path,
                 credentials: dict[str, Any] | None = None, app_module: str = "app") -> None:
        super().__init__(functions, work_dir, credentials, limits=True)
        self._app_module = app_module
        self._idle: dict[str, list[_Environment]] = defaultdict(list)
        self._lock = threading.Lock()
        self._closed = False

    def invoke_event(self, name: str, target: Callable[[Any, LambdaContext], T], event: Any,
                     deadline_seconds: float | None = None) -> T:
        """Run the function `name` on `event` in one of its environments (`target`, this
        process's copy of the handler, is not used: the environment has its own).

        Raises:
            InvocationStopped: the deadline, /tmp or memory was passed; the environment is gone.
            InvocationFailed: the function raised, or its environment died.
        """
        function = self._functions[name]
        seconds = allowed_seconds(function, deadline_seconds)
        environment = self._take(function)
        try:
            result = environment.run(event, seconds, self._work_dir)
        except BaseException:
            environment.kill()
            raise
        self._give_back(environment)
        return result

    def recycle(self) -> None:
        """Stop the idle environments, so that the next invocations start with this process's
        current environment variables (as a configuration update does in Lambda)."""
        with self._lock:
            idle = [e for environments in self._idle.values() for e in environments]
            self._idle.clear()
        for environment in idle:
            environment.kill()

    def close(self) -> None:
        """Stop every idle environment; busy ones stop when their invocation returns."""
        with self._lock:
            self._closed = True
        self.recycle()

    def _take(self, function: Function) -> _Environment:
        with self._lock:
            if self._idle[function.handler]:
                return self._idle[function.handler].pop()
        role = self._credentials.get(function.handler)
        return _Environment(function, (role.access_key, role.secret_key, role.token)
                            if role else None, self._app_module)

    def _give_back(self, environment: _Environment) -> None:
        with self._lock:
            if not self._closed:
                self._idle[environment.function.handler].append(environment)
                return
        environment.kill()


class _Environment:
    """One process hosting one function; runs one invocation at a time."""

    def __init__(self, function: Function, credentials: tuple[str, ...] | None,
                 app_module: str) -> None:
        self.function = function
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "glint_local.function_host", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=PROJECT, stdin=subprocess.DEVNULL)
        theirs.close()
        self._connection = Connection(ours.detach())
        self._connection.send((function, credentials, app_module))
        if not self._connection.poll(_INIT_SECONDS):
            self.kill()
            raise InvocationFailed(f"{function.logical_id}: init did not finish in "
                                   f"{_INIT_SECONDS} s")
        self._receive()  # "ready"

    def run(self, event: Any, seconds: float, work_dir: Path) -> Any:
        """Send `event`, watch the limits while it runs, return the function's result."""
        started = time.monotonic()
        deadline = started + seconds
        self._connection.send((event, int(seconds * 1000)))
        while not self._connection.poll(WATCH_SECONDS):
            passed = limit_passed(self.function, work_dir, seconds, deadline,
                                  self._peak_resident_bytes())
            if passed:
                self.kill()
                raise InvocationStopped(passed)
        kind, value = self._receive()
        peak = self._peak_resident_bytes()
        out_of_memory = memory_passed(self.function, peak)  # a spike since the last read
        if out_of_memory:
            self.kill()
            raise InvocationStopped(out_of_memory)
        log.info("REPORT %s Duration: %.2f ms Memory Size: %d MB Max Memory Used: %d MB",
                 self.function.logical_id, (time.monotonic() - started) * 1000,
                 self.function.memory_mb, peak // MIB)
        if kind == "error":
            raise InvocationFailed(f"{self.function.logical_id}: {value}")
        return value

    def kill(self) -> None:
        """End the process (SIGKILL, as Lambda ends an environment) and reap it."""
        self._process.kill()
        self._process.wait()
        self._connection.close()

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._connection.recv()
        except EOFError:
            code = self._process.wait()
            raise InvocationFailed(f"{self.function.logical_id}: Runtime exited with error: "
                                   f"exit status {code}") from None

    def _peak_resident_bytes(self) -> int:
        """The process's resident-memory high-water mark (VmHWM), 0 once it has exited."""
        try:
            with open(f"/proc/{self._process.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1]) * 1024  # kB
        except (FileNotFoundError, ProcessLookupError):
            pass  # exited: the reply (or EOF) says how
        return 0
