"""The scrubber: purges images whose delayed delete has run its course, and sweeps staging
of objects and multipart uploads that no pending upload owns (S3 lifecycle rules do the
same in AWS; this pass covers the local runtime and anything the rules have not reached)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib import aws, events, topology
from chalicelib.blobs import keys, multipart, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Status, utc_stamp
from chalicelib.services.images import purge_image

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """What one scrubber pass removed."""

    purged: tuple[str, ...] = ()
    staged_objects: tuple[str, ...] = ()
    multipart_uploads: tuple[str, ...] = ()


def scrub(now: float | None = None) -> Scrubbed:
    """Purge expired pending_delete images, then sweep abandoned staging."""
    now = time.time() if now is None else now
    delay = get_settings().scrub_delay_seconds
    cutoff = utc_stamp(now - delay)
    purged = []
    for image in image_db.in_flight(Status.PENDING_DELETE, cutoff):
        purge_image(image, events.IMAGE_PURGE)
        purged.append(image.id)
    older_than = datetime.fromtimestamp(now, timezone.utc) - timedelta(
        days=topology.STAGING_EXPIRATION_DAYS)
    stale_objects, stale_uploads = _sweep_staging(older_than)
    result = Scrubbed(tuple(purged), tuple(stale_objects), tuple(stale_uploads))
    if purged or stale_objects or stale_uploads:
        log.info("scrubber removed data", extra={"purged": len(purged),
                                                 "objects": len(stale_objects),
                                                 "uploads": len(stale_uploads)})
    return result


def _sweep_staging(older_than: datetime) -> tuple[list[str], list[str]]:
    s3, bucket = aws.s3(), get_settings().bucket
    stale_objects = [obj["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
                         Bucket=bucket, Prefix=keys.STAGING_PREFIX)
                     for obj in page.get("Contents", [])
                     if obj["LastModified"] < older_than and _abandoned(obj["Key"])]
    for key in stale_objects:
        objects.delete(key)
    stale_uploads = [upload for page in s3.get_paginator("list_multipart_uploads").paginate(
                         Bucket=bucket, Prefix=keys.STAGING_PREFIX)
                     for upload in page.get("Uploads", [])
                     if upload["Initiated"] < older_than and _abandoned(upload["Key"])]
    for upload in stale_uploads:
        multipart.abort(upload["Key"], upload["UploadId"])
    return stale_objects, [u["Key"] for u in stale_uploads]


def _abandoned(key: str) -> bool:
    """True unless the key is the staging key of its image's current pending upload."""
    ids = keys.parse_staging_key(key)
    if ids is None:
        return True
    try:
        image = image_db.get(ids[0])
    except NotFound:
        return True
    return image.upload is None or image.upload.key != key
