"""The scrubber: purges images whose delayed delete has run its course, retries removing the
data of deleted images until none is left, and sweeps staging of objects and multipart uploads
that no pending upload owns (S3 lifecycle rules do the same in AWS; this pass covers the local
runtime and anything the rules have not reached)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from chalicelib import aws, events, topology
from chalicelib.blobs import keys, multipart, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound, StaleWrite
from chalicelib.domain.image import Status, utc_stamp
from chalicelib.lifecycle import deletes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """What one scrubber pass did: images purged, deleted images whose data is now all gone,
    data a store still refused (retried next pass), and stored copies stranded in stores no
    longer configured ("store:key", reported until an operator acts)."""

    purged: tuple[str, ...] = ()
    emptied: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    stranded: tuple[str, ...] = ()
    staged_objects: tuple[str, ...] = ()
    multipart_uploads: tuple[str, ...] = ()


def scrub(now: float | None = None) -> Scrubbed:
    """Finish removing deleted images' data, purge expired pending_delete images, then
    sweep abandoned staging."""
    now = time.time() if now is None else now
    removals: dict[str, deletes.Removal] = {}
    # Deleted images with data left first: a purge below tries its own data at once.
    for tombstone in image_db.in_flight(Status.DELETED, utc_stamp(now)):
        removals[tombstone.id] = deletes.remove_data(tombstone)
    purged = []
    cutoff = utc_stamp(now - get_settings().scrub_delay_seconds)
    for image in image_db.in_flight(Status.PENDING_DELETE, cutoff):
        try:
            removals[image.id] = deletes.delete_for_good(image, events.IMAGE_PURGE)
        except StaleWrite:  # restored (or purged by another pass) meanwhile
            continue
        purged.append(image.id)
    older_than = datetime.fromtimestamp(now, timezone.utc) - timedelta(
        days=topology.STAGING_EXPIRATION_DAYS)
    stale_objects, stale_uploads = _sweep_staging(older_than)
    result = Scrubbed(
        purged=tuple(purged),
        emptied=tuple(i for i, r in removals.items() if r.done),
        retrying=tuple(i for i, r in removals.items() if r.failed),
        stranded=tuple(f"{loc.store}:{loc.key}" for r in removals.values() for loc in r.stranded),
        staged_objects=tuple(stale_objects), multipart_uploads=tuple(stale_uploads))
    if purged or removals or stale_objects or stale_uploads:
        log.info("scrubber removed data", extra={
            "purged": len(purged), "emptied": len(result.emptied),
            "retrying": len(result.retrying), "stranded": len(result.stranded),
            "objects": len(stale_objects), "uploads": len(stale_uploads)})
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
