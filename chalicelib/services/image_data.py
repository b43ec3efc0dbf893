"""Image data through the API (Glance's calls): `PUT .../file`, `PUT .../stage` and
`POST .../import`. Bytes through the API are for small images; the same worker code verifies
them as it does presigned uploads."""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain import policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, ImageRejected, Invalid, QuotaExceeded
from chalicelib.domain.image import Image, ImportClaim, PendingUpload, Status, transition, utcnow
from chalicelib.pipeline import run
from chalicelib.pipeline.requests import request_import
from chalicelib.services.images import get_image

log = logging.getLogger(__name__)
KNOWN_METHODS = ("glance-direct", "web-download", "copy-image", "glance-download")


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A parsed `POST .../import` body."""

    method: str
    uri: str | None = None


def upload_file(ctx: RequestContext, image_id: str, data: bytes,
                declared_size: int | None) -> Image:
    """`PUT .../file`: store the bytes, then verify and activate them before answering.

    Raises:
        QuotaExceeded: the body is larger than the API carries (use the presigned upload).
        Invalid: the size header does not match, or formats are missing.
        Conflict: the image is not queued.
        ImageRejected: the data failed verification (the reason is kept on the image).
    """
    image = _writable(ctx, image_id, data, declared_size, "uploaded")
    if not (image.disk_format and image.container_format):
        raise Invalid("Properties disk_format, container_format must be set prior to "
                      "saving data.")
    pending = _pending(image.id, len(data))
    # Claimed before the bytes land, so the worker that S3's event wakes leaves it to us.
    claim = ImportClaim(pending.key, time.time() + get_settings().import_lease_seconds)
    claimed = image_db.save(replace(transition(image, Status.IMPORTING, utcnow()), upload=pending,
                                    claim=claim, import_error=None))
    objects.put(pending.key, data)
    if run.import_claimed(claimed) is run.Outcome.REJECTED:
        raise ImageRejected(image_db.get(image.id).import_error or "Image data was rejected.")
    return image_db.get(image.id)


def stage(ctx: RequestContext, image_id: str, data: bytes, declared_size: int | None) -> Image:
    """`PUT .../stage`: keep the bytes in staging until a glance-direct import asks for them.

    Raises:
        QuotaExceeded: the body is larger than the API carries (stage with a presigned upload).
        Invalid: the size header does not match.
        Conflict: the image is not queued (already staged, importing or active).
    """
    image = _writable(ctx, image_id, data, declared_size, "staged")
    pending = replace(_pending(image.id, len(data)), awaiting_import=True)
    staged = image_db.save(replace(transition(image, Status.UPLOADING, utcnow()), upload=pending,
                                   import_error=None))
    objects.put(pending.key, data)
    return staged


def import_image(ctx: RequestContext, image_id: str, body: Any) -> Image:
    """`POST .../import`: start an import; the worker does the rest (202).

    Raises:
        Invalid: the body is malformed, or names an unknown or disabled method.
        Conflict: the image is not in the state the method needs, or lacks its formats.
    """
    request = parse_import_request(body)
    image = get_image(ctx, image_id)
    policy.require_owner(ctx, image, "import")
    if not (image.disk_format and image.container_format):
        raise Conflict("Properties disk_format, container_format must be set prior to "
                       "importing data.")
    upload = image.upload
    if image.status is not Status.UPLOADING or upload is None or not upload.awaiting_import:
        raise Conflict("Image needs to be staged before 'glance-direct' method can be used.")
    if objects.size_of(upload.key) is None:
        raise Conflict("The image has no staged data yet; upload it before importing.")
    requested = image_db.save(replace(image, upload=replace(upload, awaiting_import=False)))
    request_import(image.id, upload.key)
    log.info("import requested", extra={"image_id": image.id, "method": request.method})
    return requested


def parse_import_request(body: Any) -> ImportRequest:
    """Validate an import body against the methods this deployment offers.

    Raises:
        Invalid: malformed, unknown method, or a method not enabled here.
    """
    method = body.get("method") if isinstance(body, dict) else None
    name = method.get("name") if isinstance(method, dict) else None
    if not isinstance(name, str):
        raise Invalid("Request body must be {\"method\": {\"name\": \"<import method>\"}}.")
    if name not in KNOWN_METHODS:
        raise Invalid(f"Import method {name} is not valid.")
    if name not in get_settings().import_methods:
        raise Invalid(f"Import method {name} is not enabled here; offered: "
                      f"{', '.join(get_settings().import_methods)}.")
    return ImportRequest(method=name, uri=method.get("uri"))


def _writable(ctx: RequestContext, image_id: str, data: bytes, declared_size: int | None,
              verb: str) -> Image:
    limit = get_settings().direct_put_max_bytes
    if len(data) > limit:
        raise QuotaExceeded(f"Image data {verb} through the API is limited to {limit} bytes; "
                            f"use POST /v2/images/{image_id}/uploads for a direct upload.")
    if declared_size is not None and declared_size != len(data):
        raise Invalid(f"x-openstack-image-size says {declared_size} bytes but {len(data)} "
                      "were sent.")
    image = get_image(ctx, image_id)
    policy.require_owner(ctx, image, "upload data to")
    if image.status is not Status.QUEUED:
        raise Conflict(f"Image status is '{image.status}'; data can be {verb} only while the "
                       "image is queued.")
    return image


def _pending(image_id: str, size: int) -> PendingUpload:
    upload_id = uuid.uuid4().hex
    return PendingUpload(id=upload_id, key=keys.staging_key(image_id, upload_id), size=size)
