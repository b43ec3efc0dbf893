"""Direct-to-bucket uploads: grant presigned URLs, complete or abort multipart uploads."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from typing import Any

from chalicelib import metrics
from chalicelib.blobs import keys, multipart, objects, presign
from chalicelib.blobs.presign import PresignedRequest
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db.along import Along
from chalicelib.domain import usage
from chalicelib.domain import signatures
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.image import (Image, PendingUpload, Status, transition, utcnow,
                                     wire_time_after)
from chalicelib.domain.tasks import new_task_id
from chalicelib.domain.uploads import (UploadPlan, parse_sha256, parse_upload_request,
                                       plan_upload, split_into_parts)
from chalicelib.lifecycle import quota_holds
from chalicelib.services import tasks
from chalicelib.services.images import get_image_for

log = logging.getLogger(__name__)
# Part URLs handed out per response; clients page through the rest with `first_part`.
PARTS_PER_RESPONSE = 1000


@dataclass(frozen=True, slots=True)
class PartGrant:
    """A presigned URL for one part."""

    part_number: int
    size: int
    request: PresignedRequest


@dataclass(frozen=True, slots=True)
class UploadGrant:
    """What a client needs to send the bytes: one URL, or URLs for (a page of) parts."""

    image: Image
    upload: PendingUpload
    single: PresignedRequest | None
    parts: tuple[PartGrant, ...]
    part_count: int
    uploaded_parts: dict[int, int]


def start_upload(ctx: RequestContext, image_id: str, body: Any) -> UploadGrant:
    """Grant presigned URLs for the image's data; the image becomes `uploading`.

    Raises:
        Invalid: bad size, sha256 or part size.
        Conflict: the image is not queued/uploading, or lacks its formats.
        QuotaExceeded: the size is beyond what one upload may carry, or the declared bytes
            or one more upload would break the owner's quotas.
    """
    request = parse_upload_request(body)
    settings = get_settings()
    image = get_image_for(ctx, image_id, "upload_image")
    if image.status not in (Status.QUEUED, Status.UPLOADING):
        raise Conflict(f"Image {image.id} is {image.status}; data can be uploaded only to a "
                       "queued image.")
    if not (image.disk_format and image.container_format):
        raise Conflict("Properties disk_format, container_format must be set prior to "
                       "saving data.")
    signatures.requested(image.properties)  # incomplete signature properties: 400 now
    plan = plan_upload(request, settings.single_upload_max_bytes, settings.multipart_part_size)
    upload_id = uuid.uuid4().hex
    key = keys.staging_key(image.id, upload_id)
    now = utcnow()
    uploading = transition(image, Status.UPLOADING, now) if image.status is Status.QUEUED else image
    pending = PendingUpload(id=upload_id, key=key, size=request.size, sha256=request.sha256,
                            multipart_id=multipart.start(key) if plan.multipart else None,
                            part_size=plan.part_size,
                            expires_at=wire_time_after(settings.presign_expires_seconds),
                            task_id=new_task_id(), reserved_bytes=request.size)
    try:  # the quota charge goes in the same transaction as the upload's record
        saved = image_db.save(replace(uploading, upload=pending, import_error=None,
                                      updated_at=now),
                              quota_holds.upload_charge(image, request.size))
    except Exception:  # not recorded: discard now (else the orphan sweep would), re-raise
        _discard(pending)
        raise
    if image.upload:  # a new upload supersedes the previous one (the reaper fails its task)
        _discard(image.upload)
    tasks.start_import(ctx, saved, tasks.DIRECT_UPLOAD)
    log.info("upload granted", extra={"image_id": image.id, "upload_id": upload_id,
                                      "size": request.size, "parts": len(plan.part_sizes)})
    return _grant(saved, pending, plan, first_part=1, uploaded={})


def describe_upload(ctx: RequestContext, image_id: str, upload_id: str,
                    first_part: int = 1) -> UploadGrant:
    """Fresh URLs for the pending upload (from `first_part`) and the parts already in S3.
    Asking keeps the upload alive: its expiry moves to that of the fresh URLs, so the reaper
    leaves alone an upload whose client keeps coming back, however long it takes.

    Raises:
        NotFound: the image has no such pending upload (finished, aborted or reaped).
        Invalid: `first_part` is not one of the upload's parts.
    """
    image, pending = _pending(ctx, image_id, upload_id)
    plan = _plan_of(pending)
    if plan.multipart and not 1 <= first_part <= len(plan.part_sizes):
        raise Invalid(f"first_part must be from 1 to {len(plan.part_sizes)}.")
    uploaded = multipart.part_sizes(pending.key, pending.multipart_id) if plan.multipart else {}
    image = image_db.update(image.id, lambda current: _extended(current, upload_id))
    return _grant(image, image.upload, plan, first_part, uploaded)


def _extended(image: Image, upload_id: str) -> Image:
    """The image with its pending upload's expiry at that of URLs signed now."""
    if image.status is not Status.UPLOADING or not image.upload or image.upload.id != upload_id:
        raise NotFound(f"Image {image.id} has no pending upload {upload_id}.")
    expires_at = wire_time_after(get_settings().presign_expires_seconds)
    return replace(image, upload=replace(image.upload, expires_at=expires_at))


def complete_upload(ctx: RequestContext, image_id: str, upload_id: str, body: Any) -> Image:
    """Join the uploaded parts; S3 then tells the worker, which verifies and activates. A
    client that hashed the data while sending it may declare its sha256 here.

    Raises:
        Invalid: the part list is malformed, the parts in S3 do not add up to the size, or
            the sha256 is malformed or differs from the one declared with the grant.
        Conflict: the upload is a single PUT, not multipart.
    """
    image, pending = _pending(ctx, image_id, upload_id)
    if not pending.multipart_id:
        raise Conflict("This upload is a single PUT; there is nothing to complete.")
    parts = _parse_parts(body)
    sha256 = parse_sha256(body.get("sha256"))
    if sha256 and pending.sha256 and sha256 != pending.sha256:
        raise Invalid(f"The sha256 {sha256} differs from the {pending.sha256} declared when "
                      "the upload began.")
    expected = _plan_of(pending).part_sizes
    if [n for n, _ in parts] != list(range(1, len(expected) + 1)):
        raise Invalid(f"Expected parts 1 to {len(expected)}, in order.")
    uploaded = multipart.part_sizes(pending.key, pending.multipart_id)  # only for a valid list
    wrong = [n for n, size in enumerate(expected, 1) if uploaded.get(n) != size]
    if wrong:
        raise Invalid(f"Parts {wrong[:10]} are missing or not the size that was declared "
                      f"({pending.size} bytes in {len(expected)} parts).")
    if sha256 and not pending.sha256:  # recorded before S3 can report the object
        image = image_db.save(replace(image, upload=replace(pending, sha256=sha256)))
    multipart.complete(pending.key, pending.multipart_id, parts)
    log.info("multipart upload completed", extra={"image_id": image.id, "upload_id": upload_id})
    return image


def abort_upload(ctx: RequestContext, image_id: str, upload_id: str) -> Image:
    """Abandon the pending upload; the image returns to `queued`."""
    image, pending = _pending(ctx, image_id, upload_id)
    queued = image_db.save(transition(image, Status.QUEUED, utcnow()),
                           Along(image.owner, usage.negate(usage.reserved(pending))))
    _discard(pending)
    return queued


def _pending(ctx: RequestContext, image_id: str, upload_id: str) -> tuple[Image, PendingUpload]:
    image = get_image_for(ctx, image_id, "upload_image")
    if image.status is not Status.UPLOADING or not image.upload or image.upload.id != upload_id:
        raise NotFound(f"Image {image.id} has no pending upload {upload_id}.")
    return image, image.upload


def _plan_of(pending: PendingUpload) -> UploadPlan:
    if not pending.multipart_id or not pending.part_size:
        return UploadPlan(part_size=None, part_sizes=())
    return UploadPlan(pending.part_size, split_into_parts(pending.size, pending.part_size))


def _grant(image: Image, pending: PendingUpload, plan: UploadPlan, first_part: int,
           uploaded: dict[int, int]) -> UploadGrant:
    expires = get_settings().presign_expires_seconds
    if not plan.multipart:
        single = presign.presign_put(pending.key, pending.size, pending.sha256, expires)
        metrics.presigned_urls_issued(1, "single")
        return UploadGrant(image, pending, single, (), 0, {})
    last = min(len(plan.part_sizes), first_part + PARTS_PER_RESPONSE - 1)
    parts = tuple(
        PartGrant(n, plan.part_sizes[n - 1],
                  presign.presign_part(pending.key, pending.multipart_id, n,
                                       plan.part_sizes[n - 1], expires))
        for n in range(first_part, last + 1))
    metrics.presigned_urls_issued(len(parts), "part")
    return UploadGrant(image, pending, None, parts, len(plan.part_sizes), uploaded)


def _parse_parts(body: Any) -> list[tuple[int, str]]:
    raw = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw:
        raise Invalid("Body must be {\"parts\": [{\"part_number\": n, \"etag\": \"...\"}, ...]}.")
    parts = []
    for item in raw:
        if not (isinstance(item, dict) and isinstance(item.get("part_number"), int)
                and isinstance(item.get("etag"), str)):
            raise Invalid("Each part needs an integer 'part_number' and a string 'etag'.")
        parts.append((item["part_number"], item["etag"]))
    return parts


def _discard(pending: PendingUpload) -> None:
    if pending.multipart_id:
        multipart.abort(pending.key, pending.multipart_id)
    objects.delete(pending.key)
