"""One Lambda execution environment: a process that hosts one function of the app and runs
its invocations one at a time, as Lambda does. glint_local.environments starts it, hands it
each event and enforces the function's limits from outside (memory, deadline, /tmp).

The function signs with its role and is checked against the role's statements as in the
shared-process runtime (glint_local.sandbox, bound here to the whole process), and reaches
the same embedded AWS over loopback. Run as `python -m glint_local.function_host FD`, FD
being the connected socket it talks over (pickled messages: glint_local.environments)."""
from __future__ import annotations

import importlib
import sys
import traceback
from multiprocessing.connection import Connection

from botocore.credentials import Credentials
from chalice.local import LambdaContext

from chalicelib.engine import handover
from glint_local import engine_process, sandbox
from glint_local.envelope import handler_of
from glint_local.stack import Function


def serve(connection: Connection) -> None:
    """Set up from the first message, then answer each event until the connection closes."""
    function: Function
    function, credentials, app_module = connection.recv()
    sandbox.install()
    sandbox.bind_process(sandbox.Invocation(
        function, Credentials(*credentials) if credentials else None))
    handover.use_launcher(engine_process.launch)  # big images go to the engine, as in AWS
    handler = handler_of(importlib.import_module(app_module).app, function.handler)
    connection.send(("ready", None))
    while True:
        try:
            event, remaining_ms = connection.recv()
        except EOFError:
            return
        context = LambdaContext(function_name=function.logical_id,
                                memory_size=function.memory_mb, max_runtime_ms=remaining_ms)
        try:
            reply = ("result", handler(event, context))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, as Lambda does
            reply = ("error", "".join(traceback.format_exception_only(exc)).strip() + "\n"
                     + traceback.format_exc())
        connection.send(reply)


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
