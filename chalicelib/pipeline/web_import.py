"""The worker's side of a web-download import: fetch the URI into the pending upload's
staging key; S3's ObjectCreated event then drives the usual verify-and-activate path."""
from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import urlsplit

from chalicelib import tracing
from chalicelib.db import images as image_db
from chalicelib.db import imports as import_db
from chalicelib.domain.errors import ImageRejected, Invalid, NotFound, QuotaExceeded, StaleWrite
from chalicelib.domain.image import Image, Status
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.fetch import expected_digest
from chalicelib.pipeline.requests import WebDownloadRequest
from chalicelib.pipeline.run import LeaseLost, Outcome, fail_import
from chalicelib.pipeline.web_download import download_to_staging, policy_from_settings
from chalicelib.lifecycle import quota_holds


def fetch_into_staging(request: WebDownloadRequest) -> Outcome:
    """Download the URI for a still-pending web-download; a refused or failed fetch returns
    the image to `queued` with the reason. Safe to run twice (SQS may redeliver)."""
    image = _pending(request)
    if image is None:
        return Outcome.IGNORED
    expected = (expected_digest(request.hash_algo, request.hash_value or "")
                if request.hash_algo else None)

    def record_size(size: int) -> None:
        # Before the object exists (so before its event): the worker checks this size, and
        # the owner's quotas now hold the bytes, in the same transaction (a refusal aborts
        # the staged upload). A user's edit meanwhile does not matter.
        current = _pending(request)
        if current is None:  # deleted or superseded meanwhile: abort the upload
            raise LeaseLost()
        sized = replace(current.upload, size=size, reserved_bytes=size)
        try:
            import_db.change_upload(current, sized, quota_holds.upload_charge(current, size))
        except StaleWrite as exc:
            raise LeaseLost() from exc

    # The task shows the download (the host only: a URI's query may carry credentials).
    task_id = image.upload.task_id
    task_progress.processing(task_id, f"Downloading from {urlsplit(request.uri).hostname}.")
    progress = task_progress.Progress(task_id, 0, time.time)
    try:
        with tracing.subsegment("download", image_id=image.id, project=image.owner):
            download_to_staging(image.id, request.upload_id, request.uri,
                                policy_from_settings(), expected, on_progress=progress.reached,
                                before_complete=record_size)
    except LeaseLost:
        return Outcome.IGNORED
    # A refused URI or redirect, an HTTP error, a hash mismatch, or bytes beyond the quota.
    except (ImageRejected, Invalid, QuotaExceeded) as exc:
        current = _pending(request)
        if current is not None:
            fail_import(current, f"web-download of {request.uri} failed: {exc.message}")
        return Outcome.REJECTED
    return Outcome.STAGED  # download_to_staging logged it


def _pending(request: WebDownloadRequest) -> Image | None:
    try:
        image = image_db.get(request.image_id)
    except NotFound:
        return None
    upload = image.upload
    if image.status is not Status.UPLOADING or upload is None or upload.id != request.upload_id:
        return None  # superseded, deleted or already imported
    return image
