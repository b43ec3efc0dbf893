"""Which function is running on this thread, and what that means for its AWS calls.

In Lambda each function runs alone in its sandbox, signs with its own role and stops at its
deadline. The local runtime runs them in one process (or, with memory limits, one process per
execution environment: glint_local.environments), so it binds an `Invocation` to the thread
(a context variable) or to the whole process, and every botocore client checks it before
signing a request:
work that outlived its invocation is stopped, the role's credentials sign the request (per
request, so shared clients stay shared), and the role's statements must allow the call.
"""
from __future__ import annotations

import concurrent.futures
import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from glint_local import iam_policy
from glint_local.stack import Function

_CURRENT: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "glint_invocation", default=None)
_PARAMS = "glint_params"
_process_invocation: Invocation | None = None  # an execution environment's only function
_installed = 0
_lock = threading.Lock()
_original_create_client = botocore.session.Session.create_client
_original_submit = concurrent.futures.ThreadPoolExecutor.submit


class FunctionStopped(Exception):
    """Raised into work that is still running after its invocation ended (as Lambda freezes
    or kills the sandbox, nothing it does afterwards reaches AWS)."""


@dataclass
class Invocation:
    """One run of one function."""

    function: Function
    # The role's session credentials; None: the process's own (IAM not modelled).
    credentials: Credentials | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    reason: str = ""

    def end(self, reason: str) -> None:
        """Stop this invocation: its next AWS call raises FunctionStopped."""
        self.reason = reason
        self.ended.set()


def current() -> Invocation | None:
    """The invocation bound to this thread, else the one bound to the process, if any."""
    return _CURRENT.get() or _process_invocation


def bind_process(invocation: Invocation) -> None:
    """Every thread of this process works for `invocation` (an execution environment hosts one
    function; the threads its libraries start are bound too)."""
    global _process_invocation
    _process_invocation = invocation


@contextmanager
def running(invocation: Invocation) -> Iterator[None]:
    """Bind `invocation` to this thread (and the pool threads it starts) for the block."""
    token = _CURRENT.set(invocation)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def install() -> None:
    """Hook every botocore client made from now on (once per process; counted)."""
    global _installed
    with _lock:
        _installed += 1
        if _installed == 1:
            botocore.session.Session.create_client = _create_client  # type: ignore[method-assign]
            concurrent.futures.ThreadPoolExecutor.submit = _submit  # type: ignore[method-assign]


def uninstall() -> None:
    """Undo `install` (clients made meanwhile keep their hooks, which then do nothing)."""
    global _installed
    with _lock:
        _installed -= 1
        if _installed == 0:
            botocore.session.Session.create_client = _original_create_client  # type: ignore
            concurrent.futures.ThreadPoolExecutor.submit = _original_submit  # type: ignore


def _create_client(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, *args, **kwargs)
    client.meta.events.register("before-parameter-build", _remember_params,
                                unique_id="glint-params")
    client.meta.events.register("before-sign", _before_sign, unique_id="glint-sandbox")
    return client


def _submit(self: concurrent.futures.ThreadPoolExecutor, fn: Any, /, *args: Any,
            **kwargs: Any) -> concurrent.futures.Future:
    # Pool threads (boto3's managed transfers) work for the invocation that started them.
    return _original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context[_PARAMS] = dict(params)


def _before_sign(request: Any, operation_name: str, signing_name: str, region_name: str,
                 **_: Any) -> None:
    invocation = current()
    if invocation is None or _installed == 0:
        return  # the runtime itself (provisioning, tests): the process's own credentials
    if invocation.ended.is_set():
        raise FunctionStopped(f"{invocation.function.logical_id}: {invocation.reason}; "
                              f"{operation_name} not sent")
    if invocation.credentials is None:
        return
    request.context.setdefault("signing", {})["request_credentials"] = invocation.credentials
    params = request.context.get(_PARAMS, {})
    for need in iam_policy.needs(signing_name, operation_name, params, region_name):
        if not iam_policy.allows(invocation.function.statements, need):
            raise ClientError({"Error": {
                "Code": "AccessDenied",
                "Message": f"{invocation.function.logical_id}'s role is not authorized to "
                           f"perform {need} (glint_local's check of the role's statements)"},
                "ResponseMetadata": {"HTTPStatusCode": 403}}, operation_name)
