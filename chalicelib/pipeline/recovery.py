"""Nothing stays pending forever: the reaper for stalled imports and abandoned uploads, and
the dead-letter handler for imports that failed every attempt."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from chalicelib import events
from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import imports as import_db
from chalicelib.db import tasks as task_db
from chalicelib.domain.errors import NotFound, StaleWrite
from chalicelib.domain.image import (Image, PendingUpload, Status, utc_stamp, utcnow,
                                     wire_epoch, wire_time_after)
from chalicelib.domain.stores import IMPORTING_PROPERTY, parse_selection, progress
from chalicelib.pipeline.events import ObjectCreated
from chalicelib.pipeline.requests import (CopyRequest, WebDownloadRequest, request_copy,
                                          request_import)
from chalicelib.pipeline import import_stores, task_progress
from chalicelib.pipeline.run import fail_import

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reaped:
    """What one reaper pass did."""

    failed: tuple[str, ...] = ()
    requeued: tuple[str, ...] = ()
    orphaned_tasks: tuple[str, ...] = ()
    republished: int = 0


def reap(now: float | None = None) -> Reaped:
    """Give every pending state its end (docs/consistency.md): fail imports whose worker
    stopped renewing its lease; re-request imports whose request or S3 event was lost (the
    staged object is there); fail uploads, stagings and web-downloads whose deadline passed
    with no data; send again copy-image requests no worker picked up.

    A stalled import is failed, not retried: its worker may have died on the data itself, and
    the owner sees why at once and can upload again."""
    now = time.time() if now is None else now
    grace = get_settings().reap_after_seconds
    keep = get_settings().staging_keep_seconds
    cutoff = utc_stamp(now - grace)
    failed: list[str] = []
    requeued: list[str] = []
    for image in image_db.in_flight(Status.IMPORTING, cutoff):
        if image.claim and image.claim.lease_until < now - grace and fail_import(
                image, "Import stalled: the worker stopped before finishing "
                       f"(its lease ran out at {utc_stamp(image.claim.lease_until)})."):
            failed.append(image.id)
    for image in image_db.in_flight(Status.UPLOADING, cutoff):
        upload = image.upload
        if upload is None or not _expired(upload.expires_at, now - grace):
            continue
        if objects.size_of(upload.key) is None:  # URLs expired, put failed, never fetched
            if fail_import(image, "Upload abandoned: no data arrived before "
                                  f"{upload.expires_at}."):
                failed.append(image.id)
        elif not upload.awaiting_import:  # data arrived or was requested; the event was lost
            if _request_again(image, upload):
                requeued.append(image.id)
        elif _expired(upload.expires_at, now - keep):
            if fail_import(image, "Staged data expired: no import was requested within "
                                  f"{keep // 3600} hours of staging."):
                failed.append(image.id)
        # else: staged for glance-direct, kept until the owner asks (or it expires)
    requeued += resend_unclaimed_copies(cutoff)
    # Then: tasks of imports that went away unanswered (image deleted, upload aborted).
    orphaned = task_progress.reap_orphans(cutoff)
    # Last: events whose change was committed but whose publishing a crash cut short.
    republished = events.republish(cutoff)
    if failed or requeued or orphaned or republished:
        log.warning("reaper acted", extra={"failed": failed, "requeued": requeued,
                                           "orphaned_tasks": orphaned,
                                           "republished_events": republished})
    return Reaped(tuple(failed), tuple(requeued), orphaned, republished)


def _request_again(image: Image, upload: PendingUpload) -> bool:
    """Ask for the import again, moving the request's deadline first (the intent), so that
    a lost send is retried on a later pass and a delivered one is not repeated each pass."""
    try:
        import_db.change_upload(image, replace(upload, expires_at=wire_time_after(0)))
    except StaleWrite:
        return False  # claimed or changed meanwhile
    request_import(image.id, upload.key)
    return True


def resend_unclaimed_copies(changed_before: str) -> list[str]:
    """Send again the copy-image requests whose task no worker ever picked up (the send
    failed after the image listed its stores as importing); returns their images' ids."""
    resent = []
    for task, image in task_progress.unclaimed_copies(changed_before):
        stores = tuple(progress(image, IMPORTING_PROPERTY))
        must_succeed = parse_selection(task.input.get("import_req", {})).all_stores_must_succeed
        # Noted first: the task's change time keeps the next pass from sending it yet again.
        task_db.note(task.id, "Waiting for a worker to start the copy (asked again).", utcnow())
        request_copy(CopyRequest(image.id, stores, must_succeed, task.id))
        resent.append(image.id)
    return resent


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
        return import_stores.give_up(image, ids[1])
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
