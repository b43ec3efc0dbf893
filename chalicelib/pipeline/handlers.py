"""Lambda entry points of the import pipeline: the import queue, its dead-letter queue, and
the scheduled reaper."""
from __future__ import annotations

import logging

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib import topology
from chalicelib.config import get_settings
from chalicelib.pipeline import recovery, run, web_import
from chalicelib.pipeline.events import parse_message
from chalicelib.pipeline.requests import WebDownloadRequest

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
_QUEUE = topology.import_queue(get_settings())


# One message per invocation: Chalice has no partial-batch response, so a failure must
# send back only the message that failed.
@bp.on_sqs_message(queue=_QUEUE.name, batch_size=1)
def import_worker(event: SQSEvent) -> None:
    """Verify and activate the image behind each staged object; fetch web-downloads."""
    for record in event:
        for item in parse_message(record.body):
            if isinstance(item, WebDownloadRequest):
                outcome = web_import.fetch_into_staging(item)
            else:
                outcome = run.import_staged_object(item)
            log.info("import message handled", extra={"outcome": str(outcome)})


@bp.on_sqs_message(queue=_QUEUE.dlq_name, batch_size=10)
def import_dead_letters(event: SQSEvent) -> None:
    """Fail, with the last recorded error, the imports whose messages exhausted their retries."""
    for record in event:
        for item in parse_message(record.body):
            if recovery.dead_letter(item):
                log.warning("import failed for good", extra={"image": str(item)})


@bp.schedule(Rate(topology.REAPER_PERIOD_MINUTES, unit=Rate.MINUTES))
def import_reaper(event: CloudWatchEvent) -> None:
    """Find imports and uploads that stalled, and fail or re-request them."""
    recovery.reap()
