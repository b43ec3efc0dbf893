"""Lambda entry points of the import pipeline: SQS messages carrying S3 notifications."""
from __future__ import annotations

import logging

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.config import get_settings
from chalicelib.pipeline import run
from chalicelib.pipeline.events import parse_s3_notification

log = logging.getLogger(__name__)
bp = Blueprint(__name__)


# One message per invocation: Chalice has no partial-batch response, so a failure must
# send back only the message that failed.
@bp.on_sqs_message(queue=get_settings().import_queue, batch_size=1)
def import_worker(event: SQSEvent) -> None:
    """Verify and activate the image behind each staged object."""
    for record in event:
        for obj in parse_s3_notification(record.body):
            outcome = run.import_staged_object(obj)
            log.info("staged object handled", extra={"key": obj.key, "outcome": str(outcome)})
