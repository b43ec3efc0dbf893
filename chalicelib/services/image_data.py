"""Image data through the API (Glance's calls): `PUT .../file`, `PUT .../stage` and
`POST .../import`. Bytes through the API are for small images; the same worker code verifies
them as it does presigned uploads."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain import signatures
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Invalid, QuotaExceeded, StoreFailed
from chalicelib.domain.image import (Image, PendingUpload, Status, new_claim, transition,
                                     utcnow, wire_time_after)
from chalicelib.domain.tasks import new_task_id
from chalicelib.domain.stores import StoreSelection, parse_selection
from chalicelib.pipeline import import_stores, run
from chalicelib.pipeline.fetch import ExpectedDigest, expected_digest
from chalicelib.pipeline.fetch_policy import validate_uri
from chalicelib.pipeline.requests import WebDownloadRequest, request_import, request_web_download
from chalicelib.pipeline.web_download import policy_from_settings
from chalicelib.lifecycle import quota_holds
from chalicelib.services import discovery
from chalicelib.services import stores as store_service
from chalicelib.services import tasks
from chalicelib.services.images import get_image_for

log = logging.getLogger(__name__)
KNOWN_METHODS = ("glance-direct", "web-download", "copy-image", "glance-download")


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A parsed `POST .../import` body."""

    method: str
    uri: str | None = None
    # Glint extension for web-download: the data's expected hash (Glance's validation_data).
    expected: ExpectedDigest | None = None
    # copy-image: which stores, and whether one failing undoes the others.
    stores: StoreSelection | None = None
    # A legacy task's input (POST /v2/tasks): its task is recorded as Glance's `import`.
    legacy_input: Mapping[str, Any] | None = None


def upload_file(ctx: RequestContext, image_id: str, data: bytes,
                declared_size: int | None) -> Image:
    """`PUT .../file`: store the bytes, then verify and activate them before answering.

    Raises:
        QuotaExceeded: the body is larger than the API carries (use the presigned upload),
            or would break the owner's quotas.
        Invalid: the size header does not match, or formats are missing.
        Conflict: the image is not queued.
        ImageRejected: the data failed verification (the reason is kept on the image);
            SignatureRejected (400, as Glance) when its signature or certificate did.
    """
    image = _writable(ctx, image_id, data, declared_size, "uploaded")
    if not (image.disk_format and image.container_format):
        raise Invalid("Properties disk_format, container_format must be set prior to "
                      "saving data.")
    pending = replace(_pending(image.id, len(data)), task_id=new_task_id())
    # Claimed before the bytes land, so the worker that S3's event wakes leaves it to us.
    claim = new_claim(pending.key, time.time() + get_settings().import_lease_seconds)
    claimed = image_db.save(replace(transition(image, Status.IMPORTING, utcnow()),
                                    upload=pending, claim=claim, import_error=None),
                            quota_holds.upload_charge(image, pending.size))
    tasks.start_import(ctx, claimed, tasks.FILE_UPLOAD)
    objects.put(pending.key, data)
    if run.import_claimed(claimed) is run.Outcome.REJECTED:
        raise signatures.rejection(image_db.get(image.id).import_error
                                   or "Image data was rejected.")
    return image_db.get(image.id)


def stage(ctx: RequestContext, image_id: str, data: bytes, declared_size: int | None) -> Image:
    """`PUT .../stage`: keep the bytes in staging until a glance-direct import asks for them.

    Raises:
        QuotaExceeded: the body is larger than the API carries (stage with a presigned upload),
            or would break the owner's quotas.
        Invalid: the size header does not match.
        Conflict: the image is not queued (already staged, importing or active).
    """
    image = _writable(ctx, image_id, data, declared_size, "staged")
    # The deadline is the intent: if the put below never lands, the reaper fails the
    # staging once it has passed (docs/consistency.md).
    pending = replace(_pending(image.id, len(data)), awaiting_import=True,
                      expires_at=wire_time_after(0))
    staged = image_db.save(replace(transition(image, Status.UPLOADING, utcnow()),
                                   upload=pending, import_error=None),
                           quota_holds.upload_charge(image, pending.size))
    try:
        objects.put(pending.key, data)
    except (BotoCoreError, ClientError) as exc:
        reason = "Staging failed: the data could not be stored; stage it again."
        run.fail_import(staged, reason)
        raise StoreFailed(reason) from exc
    return staged


def import_image(ctx: RequestContext, image_id: str, body: Any,
                 legacy_input: Mapping[str, Any] | None = None) -> Image:
    """`POST .../import`: start an import; the worker does the rest (202).

    Raises:
        Invalid: the body is malformed, or names an unknown or disabled method.
        Conflict: the image is not in the state the method needs, or lacks its formats.
    """
    request = replace(parse_import_request(body), legacy_input=legacy_input)
    # Glance: copying an active image to more stores is copy_image (admins); else modify_image.
    image = get_image_for(ctx, image_id,
                          "copy_image" if request.method == "copy-image" else "modify_image")
    if not (image.disk_format and image.container_format):
        raise Conflict("Properties disk_format, container_format must be set prior to "
                       "importing data.")
    signatures.requested(image.properties)  # incomplete signature properties: 400 now
    if request.method != "copy-image":  # multi-store: which stores the data goes to
        image = import_stores.with_targets(image, body)
    if request.method == "web-download":
        return _web_download(ctx, image, request, body)
    if request.method == "copy-image" and request.stores is not None:
        return store_service.copy_image(ctx, image, request.stores, body)
    return _glance_direct(ctx, image, request, body)


def _glance_direct(ctx: RequestContext, image: Image, request: ImportRequest,
                   body: dict[str, Any]) -> Image:
    upload = image.upload
    if image.status is not Status.UPLOADING or upload is None or not upload.awaiting_import:
        raise Conflict("Image needs to be staged before 'glance-direct' method can be used.")
    if objects.size_of(upload.key) is None:
        raise Conflict("The image has no staged data yet; upload it before importing.")
    # Requested now: if the request below is lost, the reaper asks again once the deadline
    # (now) is a grace period past.
    requested = image_db.save(replace(image, upload=replace(
        upload, awaiting_import=False, task_id=new_task_id(), expires_at=wire_time_after(0))))
    tasks.start_import(ctx, requested, request.method, body)  # before the worker can look
    _send(request_import, image.id, upload.key)
    log.info("import requested", extra={"image_id": image.id, "method": request.method})
    return requested


def _send(request: Callable[..., None], *args: Any) -> None:
    """Put a request on the import queue; the image write before it recorded the intent,
    so a failed send is the reaper's to repeat (or to end), not the client's error."""
    try:
        request(*args)
    except Exception:  # noqa: BLE001 - recorded with a deadline; the reaper takes it from here
        log.exception("import request not sent; the reaper will act on it")


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
    if name not in discovery.import_methods():
        raise Invalid(f"Import method {name} is not enabled here; offered: "
                      f"{', '.join(discovery.import_methods())}.")
    discovery.check_import_options(body)
    if name == "copy-image":
        return ImportRequest(method=name, stores=parse_selection(body))
    if name != "web-download":
        return ImportRequest(method=name)
    uri = method.get("uri")
    if not isinstance(uri, str) or not uri:
        raise Invalid("web-download needs the image's \"uri\" in the method.")
    validate_uri(uri, policy_from_settings())  # refuses bad schemes, ports and hosts now
    return ImportRequest(method=name, uri=uri, expected=_expected(method.get("validation_data")))


def _expected(validation: Any) -> ExpectedDigest | None:
    if validation is None:
        return None
    if not isinstance(validation, dict) or set(validation) - {"os_hash_algo", "os_hash_value"}:
        raise Invalid("validation_data takes \"os_hash_algo\" and \"os_hash_value\".")
    return expected_digest(validation.get("os_hash_algo", ""), validation.get("os_hash_value", ""))


def _web_download(ctx: RequestContext, image: Image, request: ImportRequest,
                  body: dict[str, Any]) -> Image:
    if image.status is not Status.QUEUED:
        raise Conflict(f"Image status is '{image.status}'; web-download imports into a queued "
                       "image only.")
    expires_at = wire_time_after(get_settings().web_download.timeout_seconds)
    # The size is unknown until the last byte; the worker records it before S3 reports it.
    pending = replace(_pending(image.id, 0), expires_at=expires_at, task_id=new_task_id())
    started = image_db.save(replace(transition(image, Status.UPLOADING, utcnow()),
                                    upload=pending, import_error=None),
                            quota_holds.upload_charge(image, pending.size))  # bytes on arrival
    tasks.start_import(ctx, started, request.method, body, legacy_input=request.legacy_input)
    expected = request.expected
    _send(request_web_download, WebDownloadRequest(
        image.id, pending.id, request.uri or "", expected.algorithm if expected else None,
        expected.value if expected else None))
    log.info("web-download requested", extra={"image_id": image.id})
    return started


def _writable(ctx: RequestContext, image_id: str, data: bytes, declared_size: int | None,
              verb: str) -> Image:
    limit = get_settings().direct_put_max_bytes
    if len(data) > limit:
        raise QuotaExceeded(f"Image data {verb} through the API is limited to {limit} bytes; "
                            f"use POST /v2/images/{image_id}/uploads for a direct upload.")
    if declared_size is not None and declared_size != len(data):
        raise Invalid(f"x-openstack-image-size says {declared_size} bytes but {len(data)} "
                      "were sent.")
    image = get_image_for(ctx, image_id, "upload_image")
    if image.status is not Status.QUEUED:
        raise Conflict(f"Image status is '{image.status}'; data can be {verb} only while the "
                       "image is queued.")
    signatures.requested(image.properties)  # incomplete signature properties: 400 now
    return image


def _pending(image_id: str, size: int) -> PendingUpload:
    upload_id = uuid.uuid4().hex
    return PendingUpload(id=upload_id, key=keys.staging_key(image_id, upload_id), size=size,
                         reserved_bytes=size)
