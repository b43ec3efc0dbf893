"""Lambda entry points of the import pipeline: the import queue, its dead-letter queue, and
the scheduled reaper, scrubber and orphan sweep."""
from __future__ import annotations

import contextlib
import logging

from chalice import Blueprint, Rate
from chalice.app import BaseLambdaEvent, CloudWatchEvent, SQSEvent

from chalicelib import logs, topology
from chalicelib.blobs import keys
from chalicelib.config import get_settings
from chalicelib.pipeline import (copies, location_import, recovery, run, scrubber, sweep,
                                 web_import)
from chalicelib.pipeline.events import ObjectCreated, parse_message
from chalicelib.pipeline.requests import CopyRequest, LocationRequest, WebDownloadRequest

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
# Lambda loads this module itself (not app.py) for its functions: set up logging here too.
logs.configure()
_QUEUE = topology.import_queue(get_settings())


# The pipeline's own requests and what handles them, at work and in the dead-letter queue;
# anything else is S3's ObjectCreated for a staged upload.
_WORK = {WebDownloadRequest: web_import.fetch_into_staging, CopyRequest: copies.copy_to_stores,
         LocationRequest: location_import.import_location}
_DEAD_LETTERS = {CopyRequest: copies.dead_letter, LocationRequest: location_import.dead_letter}


# One message per invocation: Chalice has no partial-batch response, so a failure must
# send back only the message that failed.
@bp.on_sqs_message(queue=_QUEUE.name, batch_size=1)
def import_worker(event: SQSEvent) -> None:
    """Verify and activate the image behind each staged object; fetch web-downloads."""
    for record in event:
        for item in parse_message(record.body):
            with _log_scope(event, item):
                handle = _WORK.get(type(item), run.import_staged_object)
                outcome = handle(item)
                log.info("import message handled", extra={"outcome": str(outcome)})


@bp.on_sqs_message(queue=_QUEUE.dlq_name, batch_size=10)
def import_dead_letters(event: SQSEvent) -> None:
    """Fail, with the last recorded error, the imports whose messages exhausted their retries."""
    for record in event:
        for item in parse_message(record.body):
            with _log_scope(event, item):
                give_up = _DEAD_LETTERS.get(type(item), recovery.dead_letter)
                if give_up(item):
                    log.warning("import failed for good", extra={"image": str(item)})


@bp.schedule(Rate(topology.REAPER_PERIOD_MINUTES, unit=Rate.MINUTES))
def import_reaper(event: CloudWatchEvent) -> None:
    """Find imports and uploads that stalled, and fail or re-request them."""
    with _log_scope(event):
        recovery.reap()


@bp.schedule(Rate(topology.SCRUBBER_PERIOD_MINUTES, unit=Rate.MINUTES))
def image_scrubber(event: CloudWatchEvent) -> None:
    """Purge images whose delayed delete expired; finish removing deleted images' data."""
    with _log_scope(event):
        scrubber.scrub()


@bp.schedule(Rate(topology.SWEEP_PERIOD_MINUTES, unit=Rate.MINUTES))
def orphan_sweep(event: CloudWatchEvent) -> None:
    """Remove objects and multipart uploads that no image record owns, a page at a time."""
    with _log_scope(event):
        sweep.sweep()


def _log_scope(event: BaseLambdaEvent,
               item: object = None) -> contextlib.AbstractContextManager[None]:
    """Lines logged for one message carry the invocation's request id and the image's id."""
    if isinstance(item, ObjectCreated):
        image_id = (keys.parse_staging_key(item.key) or (None,))[0]
    else:  # the pipeline's own requests name their image
        image_id = getattr(item, "image_id", None)
    return logs.scope(request_id=getattr(event.context, "aws_request_id", None),
                      image_id=image_id)
