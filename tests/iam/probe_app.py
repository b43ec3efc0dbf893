"""The app of the execution-environment tests: one function that does what its event says."""
from __future__ import annotations

import os
import time
from typing import Any

import boto3
from chalice import Chalice

app = Chalice(app_name="glint-probe")


@app.lambda_function(name="probe")
def probe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Hold `hold_mib` MiB for `sleep` seconds, then send `then_send` to the queue at that URL
    or raise `fail`; answer what the invocation saw."""
    held = b"\x01" * (event.get("hold_mib", 0) * 1024 * 1024)  # resident: every page written
    time.sleep(event.get("sleep", 0))
    if "then_send" in event:
        boto3.client("sqs").send_message(QueueUrl=event["then_send"], MessageBody="late")
    if "fail" in event:
        raise ValueError(event["fail"])
    return {"pid": os.getpid(), "memory_mb": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(), "held": len(held)}
