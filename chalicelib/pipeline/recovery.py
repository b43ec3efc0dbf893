"""Nothing stays pending forever: the reaper for stalled imports and abandoned uploads, and
the dead-letter handler for imports that failed every attempt."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Image, Status, utc_stamp, wire_epoch
from chalicelib.pipeline.events import ObjectCreated
from chalicelib.pipeline.requests import WebDownloadRequest, request_import
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.run import fail_import

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reaped:
    """What one reaper pass did."""

    failed: tuple[str, ...] = ()
    requeued: tuple[str, ...] = ()
    orphaned_tasks: tuple[str, ...] = ()


def reap(now: float | None = None) -> Reaped:
    """Fail imports whose worker stopped renewing its lease, re-request imports whose S3 event
    was lost (the staged object is there), and fail uploads whose URLs expired unused.

    A stalled import is failed, not retried: its worker may have died on the data itself, and
    the owner sees why at once and can upload again."""
    now = time.time() if now is None else now
    grace = get_settings().reap_after_seconds
    cutoff = utc_stamp(now - grace)
    failed: list[str] = []
    requeued: list[str] = []
    for image in image_db.in_flight(Status.IMPORTING, cutoff):
        if image.claim and image.claim.lease_until < now - grace:
            fail_import(image, "Import stalled: the worker stopped before finishing "
                               f"(its lease ran out at {utc_stamp(image.claim.lease_until)}).")
            failed.append(image.id)
    for image in image_db.in_flight(Status.UPLOADING, cutoff):
        upload = image.upload
        if upload is None or upload.awaiting_import or not _expired(upload.expires_at, now - grace):
            continue
        if objects.size_of(upload.key) is not None:  # data arrived, its S3 event did not
            request_import(image.id, upload.key)
            requeued.append(image.id)
        else:
            fail_import(image, "Upload abandoned: no data arrived before the upload URLs "
                               f"expired at {upload.expires_at}.")
            failed.append(image.id)
    # Last: tasks of imports that went away unanswered (image deleted, upload aborted).
    orphaned = task_progress.reap_orphans(cutoff)
    if failed or requeued or orphaned:
        log.warning("reaper acted", extra={"failed": failed, "requeued": requeued,
                                           "orphaned_tasks": orphaned})
    return Reaped(tuple(failed), tuple(requeued), orphaned)


def dead_letter(item: ObjectCreated | WebDownloadRequest) -> bool:
    """Fail the import behind a message that exhausted its retries; True if one was failed."""
    key = (item.key if isinstance(item, ObjectCreated)
           else keys.staging_key(item.image_id, item.upload_id))
    ids = keys.parse_staging_key(key)
    if ids is None:
        return False
    try:
        image = image_db.get(ids[0])
    except NotFound:
        return False
    if not _importing(image, key):
        return False
    last = image.import_error or "no error was recorded"
    fail_import(image, f"Import failed after repeated attempts; last error: {last}")
    return True


def _importing(image: Image, key: str) -> bool:
    return (image.status in (Status.UPLOADING, Status.IMPORTING) and image.upload is not None
            and image.upload.key == key)


def _expired(expires_at: str, before: float) -> bool:
    if not expires_at:
        return False
    return wire_epoch(expires_at) < before
