"""The event pump: what Lambda's event-source mappings and EventBridge schedules do in AWS.

It long-polls each queue the app consumes and invokes the app's `on_sqs_message` handler with
the real SQS event shape, deleting messages only after success; failures stay on the queue
for redelivery and, after the redrive limit, the dead-letter queue. It also runs the app's
`schedule` handlers on their rate."""
from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from chalice import Chalice
from chalice.app import Rate, ScheduledEventConfig, SQSEventConfig

from glint_local.envelope import Invoker

from chalicelib.engine import handover
from glint_local import engine_process

log = logging.getLogger(__name__)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda passes to an SQS-triggered function."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": region,
    } for m in messages]}


def scheduled_event(rule_arn: str, region: str) -> dict[str, Any]:
    """The event EventBridge passes to a scheduled function."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [rule_arn], "detail": {}}


def queue_arn(sqs: Any, url: str) -> str:
    """The ARN of the queue at `url`."""
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]


def rate_seconds(expression: Any) -> int | None:
    """Seconds between runs of a `rate(...)` schedule; None for cron (not run locally)."""
    if isinstance(expression, Rate):
        expression = expression.to_string()
    match = _RATE.match(str(expression))
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class EventPump:
    """Background threads that feed the app's event handlers until `stop()`; `invoker` runs
    each invocation (directly, or in the deployed stack's envelope)."""

    def __init__(self, app: Chalice, sqs: Any, queue_urls: dict[str, str], region: str,
                 poll_seconds: int = 1, invoker: Invoker | None = None) -> None:
        self._app, self._sqs, self._queue_urls = app, sqs, queue_urls
        self._region, self._poll_seconds = region, poll_seconds
        self._invoker = invoker or Invoker()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one thread per SQS consumer and per rate schedule; big-image engine jobs run
        as child processes (ECS tasks in AWS)."""
        handover.use_launcher(engine_process.launch)
        for source in self._app.event_sources:
            if isinstance(source, SQSEventConfig) and source.queue in self._queue_urls:
                self._spawn(self._consume, source)
            elif isinstance(source, ScheduledEventConfig):
                period = rate_seconds(source.schedule_expression)
                if period is None:
                    log.warning("cron schedule not run locally", extra={"handler": source.name})
                else:
                    self._spawn(self._tick, source, period)

    def stop(self) -> None:
        """Ask every thread to finish its current poll and wait for them."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"pump-{args[0].name}")
        thread.start()
        self._threads.append(thread)

    def _consume(self, source: SQSEventConfig) -> None:
        url = self._queue_urls[source.queue]
        # Lambda's event source mapping polls and deletes with the function's own role.
        with self._invoker.acting_as(source.name):
            arn = queue_arn(self._sqs, url)
        handler = self._app.handler_map[source.name]
        while not self._stopping.is_set():
            try:
                with self._invoker.acting_as(source.name):
                    messages = self._sqs.receive_message(
                        QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
                        WaitTimeSeconds=self._poll_seconds, AttributeNames=["All"],
                        MessageAttributeNames=["All"]).get("Messages", [])
            except Exception:  # noqa: BLE001 - keep polling through transient errors
                log.exception("receive failed", extra={"queue": source.queue})
                self._stopping.wait(1)
                continue
            if messages:
                self.deliver(handler, source.name, messages, url, arn)

    def deliver(self, handler: Any, name: str, messages: list[dict[str, Any]], url: str,
                arn: str) -> bool:
        """Invoke the handler `name` with one batch; delete the batch only if it succeeded."""
        event = sqs_event(messages, arn, self._region)
        try:
            self._invoker.invoke_event(name, handler, event)
        except Exception:  # noqa: BLE001 - like Lambda: the batch returns to the queue
            log.exception("handler failed; messages will be redelivered", extra={"handler": name})
            return False
        try:
            with self._invoker.acting_as(name):
                self._sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)])
        except Exception:  # noqa: BLE001 - handled, but SQS will deliver it again
            log.exception("delete failed; messages will be redelivered", extra={"handler": name})
            return False
        return True

    def run_scheduled(self, name: str) -> None:
        """Run the scheduled handler `name` once, as its rule would.

        Raises:
            Exception: whatever the invocation raised (InvocationStopped at its deadline).
        """
        handler = self._app.handler_map[name]
        event = scheduled_event(f"arn:aws:events:{self._region}:123456789012:rule/{name}",
                                self._region)
        self._invoker.invoke_event(name, handler, event)

    def _tick(self, source: ScheduledEventConfig, period: int) -> None:
        while not self._stopping.wait(period):
            try:
                self.run_scheduled(source.name)
            except Exception:  # noqa: BLE001 - a failed run is retried at the next tick
                log.exception("scheduled handler failed", extra={"handler": source.name})
