"""Lambda entry points of the import pipeline: the import queue, its dead-letter queue, and
the scheduled reaper."""
from __future__ import annotations

import logging

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import topology
from chalicelib.config import get_settings
from chalicelib.pipeline import recovery, run
from chalicelib.pipeline.events import parse_s3_notification

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
_QUEUE = topology.import_queue(get_settings())


# One message per invocation: Chalice has no partial-batch response, so a failure must
# send back only the message that failed.
@bp.on_sqs_message(queue=_QUEUE.name, batch_size=1)
def import_worker(event: SQSEvent) -> None:
    """Verify and activate the image behind each staged object."""
    for record in event:
        for obj in parse_s3_notification(record.body):
            outcome = run.import_staged_object(obj)
            log.info("staged object handled", extra={"key": obj.key, "outcome": str(outcome)})


@bp.on_sqs_message(queue=_QUEUE.dlq_name, batch_size=10)
def import_dead_letters(event: SQSEvent) -> None:
    """Fail, with the last recorded error, the imports whose messages exhausted their retries."""
    for record in event:
        for obj in parse_s3_notification(record.body):
            if recovery.dead_letter(obj):
                log.warning("import failed for good", extra={"key": obj.key})


@bp.schedule(Rate(topology.REAPER_PERIOD_MINUTES, unit=Rate.MINUTES))
def import_reaper(event: CloudWatchEvent) -> None:
    """Find imports and uploads that stalled, and fail or re-request them."""
    recovery.reap()
