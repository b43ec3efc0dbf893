"""Import of one staged object: claim the image, verify the bytes, activate, or fail with
the reason kept. Every step is idempotent: S3 and SQS may deliver an event twice."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum

from chalicelib import events, logs, metrics, tracing
from chalicelib.blobs import keys, multipart, objects, reads
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import imports as import_db
from chalicelib.db.along import Along
from chalicelib.domain import usage
from chalicelib.engine import handover
from chalicelib.domain.errors import ImageRejected, NotFound, StaleWrite
from chalicelib.domain.stores import IMPORTING_PROPERTY, progress
from chalicelib.domain.image import (Image, Location, PendingUpload, Status, new_claim,
                                     transition, utcnow)
from chalicelib.pipeline import (block_manifest, import_stores, reasons, task_progress,
                                 variants)
from chalicelib.pipeline.events import ObjectCreated
from chalicelib.pipeline.hashing import OS_HASH_ALGO, Digests, digest
from chalicelib.pipeline.inspect import StreamInspector
from chalicelib.pipeline.signature import verifier_for

log = logging.getLogger(__name__)
Clock = Callable[[], float]


class Outcome(StrEnum):
    """What became of one event."""

    ACTIVATED = "activated"
    STAGED = "staged"  # web-download fetched; S3's event brings the verification
    HANDED_OVER = "handed over"  # too big for one invocation: the engine's task imports it
    REJECTED = "rejected"
    IGNORED = "ignored"


class LeaseLost(Exception):
    """Another worker took the import over, or the image was deleted, while we worked."""


def import_staged_object(obj: ObjectCreated, clock: Clock = time.time) -> Outcome:
    """Verify a staged upload and activate its image; a rejected upload returns the image to
    `queued` with the reason. Unexpected errors propagate so that SQS redelivers."""
    ids = keys.parse_staging_key(obj.key)
    if ids is None:
        log.warning("event for a key outside staging ignored", extra={"key": obj.key})
        return Outcome.IGNORED
    image = _claim(*ids, obj.key, clock)
    if image is None:
        return Outcome.IGNORED
    if reason := handover.big_path_reason(image):
        return _hand_over(image, reason)
    return import_claimed(image, clock)


def _hand_over(image: Image, reason: str) -> Outcome:
    try:
        handover.hand_over(image, reason)
    except ImageRejected as exc:  # the engine cannot run: fail once, never retry
        fail_import(image, exc.message)
        return Outcome.REJECTED
    return Outcome.HANDED_OVER


def import_claimed(image: Image, clock: Clock = time.time) -> Outcome:
    """Verify and activate an image whose import lease the caller holds (status `importing`):
    the worker's path after its claim, and the API's for small `PUT .../file` uploads."""
    lease = _Lease(image, clock)
    logs.bind(image_id=image.id, project=image.owner)
    metrics.import_started()
    try:
        return _verify_and_activate(lease, image.upload)
    except LeaseLost:
        log.info("import lost to a newer claim or a delete", extra={"image_id": image.id})
        return Outcome.IGNORED
    except ImageRejected as exc:
        fail_import(lease.image, exc.message)
        return Outcome.REJECTED
    except Exception as exc:
        log.warning("import attempt failed", extra={"image_id": image.id,
                                                    "error": reasons.for_log(repr(exc))})
        # The redelivery takes over at once; the owner sees why (the dead-letter handler
        # repeats it if every attempt fails).
        lease.release(reasons.for_tenant(f"attempt failed: {exc!r}"))
        raise


def _verify_and_activate(lease: _Lease, pending: PendingUpload) -> Outcome:
    image = lease.image
    settings = get_settings()
    inspector = StreamInspector(image.disk_format or "", settings.max_virtual_size_bytes)
    signed = verifier_for(image, datetime.now(timezone.utc))  # refuses a bad certificate early
    task_report = task_progress.begin(image, lease.clock)
    blocks = block_manifest.digester_for(pending.size)
    # Every read and the copy into images/ are pinned to this version of the staged object:
    # a second PUT meanwhile fails them (objects.Changed), and the redelivery starts over.
    etag = objects.etag_of(pending.key)
    with variants.spool(bool(settings.convert_to)) as spool:
        with (tracing.subsegment("hash", image_id=image.id, project=image.owner,
                                 bytes=pending.size, format=image.disk_format),
              metrics.throughput("Verify", pending.size)):
            digests = digest(reads.iter_object(pending.key, if_match=etag),
                             with_sha256=bool(pending.sha256),
                             on_progress=lease.renew_if_due,
                             observers=(inspector.eat, *spool.observers, task_report.observe,
                                        blocks.observe, *((signed.observe,) if signed else ())))
        _check(digests, pending)
        if signed:
            signed.verify()
        inspection = inspector.verdict()
        # Uploads land in the default store, whose bucket is the one they were staged in.
        with lease.kept_alive():  # qemu-img runs as a subprocess, for minutes at most
            converted = spool.convert(image, pending.id, inspection,
                                      settings.default_store.id, lease.renew_if_due)
    location = Location(id=pending.id, store=settings.default_store.id,
                        key=keys.image_key(image.id, pending.id))
    with tracing.subsegment("copy", image_id=image.id, bytes=digests.size), lease.kept_alive():
        objects.copy(pending.key, location.key, if_match=etag)
    result = replace(transition(lease.image, Status.ACTIVE, utcnow()), checksum=digests.md5,
                     os_hash_algo=OS_HASH_ALGO, os_hash_value=digests.sha512,
                     size=digests.size, virtual_size=inspection.virtual_size,
                     locations=(location, *converted),
                     properties=block_manifest.store(lease.image, blocks, digests.sha512))
    result = import_stores.stored_in_default(result)
    shown = replace(result, upload=None, claim=None, import_error=None)
    # The hold becomes the stored bytes, and the events are recorded, with the activation.
    along = Along(image.owner, usage.activation(pending, result), events=(
        events.image_entry(events.IMAGE_UPLOAD, shown),
        events.image_entry(events.IMAGE_ACTIVATE, shown)))
    with tracing.subsegment("activate", image_id=image.id):
        try:
            active = import_db.activate(lease.image, result, along, result.updated_at)
        except StaleWrite:
            _discard(image.id, pending, result.locations)
            raise LeaseLost() from None
    events.flush(along.events)
    objects.delete(pending.key)
    # Other stores to fill, the task to finish.
    import_stores.finish(active, pending.task_id, progress(lease.image, IMPORTING_PROPERTY))
    metrics.import_succeeded(digests.size)
    log.info("image activated", extra={"image_id": image.id, "size": digests.size})
    return Outcome.ACTIVATED


def _claim(image_id: str, upload_id: str, key: str, clock: Clock) -> Image | None:
    """Take the import lease with a conditional write; None when this event has nothing to
    do (duplicate, superseded upload, image gone, or another worker holds a live lease)."""
    lease_seconds = get_settings().import_lease_seconds
    for _ in range(3):  # re-read after losing a race, a few times at most
        try:
            image = image_db.get(image_id)
        except NotFound:
            objects.delete(key)
            return None
        if image.upload is None or image.upload.key != key:
            # Already imported (a redelivery finishes what a crash after the activation left),
            # or superseded by a newer upload: this object is an orphan.
            import_stores.resume(image, upload_id)
            objects.delete(key)
            return None
        if image.upload.awaiting_import:  # staged for glance-direct; kept until asked
            return None
        now = clock()
        if image.status is Status.UPLOADING:
            transition(image, Status.IMPORTING, utcnow())  # formats must be set
        elif image.status is Status.IMPORTING and image.claim and image.claim.lease_until <= now:
            log.warning("taking over a stalled import", extra={"image_id": image_id})
        else:
            return None
        claimed = import_db.claim(image_id, key, new_claim(key, now + lease_seconds), now,
                                  utcnow())
        if claimed is not None:
            return claimed
    return None


def _check(digests: Digests, pending: PendingUpload) -> None:
    if digests.size != pending.size:
        raise ImageRejected(f"Upload rejected: received {digests.size} bytes, but "
                            f"{pending.size} were declared.")
    if pending.sha256 and digests.sha256 != pending.sha256:
        raise ImageRejected(f"Upload rejected: the data's sha256 is {digests.sha256}, but "
                            f"{pending.sha256} was declared.")


def fail_import(image: Image, reason: str) -> bool:
    """Back to `queued` with the reason visible, the staged object (or parts) and the
    upload's quota hold gone; only if the import is still in the pending state `image` was
    read in (a user's edit meanwhile does not matter). True if it was failed."""
    assert image.upload is not None
    staged = image.upload
    full, reason = reasons.for_log(reason), reasons.for_tenant(reason)
    shown = replace(transition(image, Status.QUEUED, utcnow()), import_error=reason)
    failure = events.image_entry(events.IMAGE_IMPORT_FAILURE, shown, reason=reason)
    along = Along(image.owner, usage.negate(usage.reserved(staged)), events=(failure,))
    failed = import_db.fail(image, reason, along, shown.updated_at)
    if failed is None:
        log.info("import failure not recorded: the import moved on meanwhile",
                 extra={"image_id": image.id})
        return False
    events.flush(along.events)
    import_stores.report_failure(failed)  # its target stores move to os_glance_failed_import
    if staged.multipart_id:
        multipart.abort(staged.key, staged.multipart_id)
    objects.delete(staged.key)
    task_progress.fail(staged.task_id, reason)
    log.warning("import rejected", extra={"image_id": image.id, "reason": full})
    metrics.import_failed(reason)
    return True


def _discard(image_id: str, pending: PendingUpload, stored: tuple[Location, ...]) -> None:
    """After losing the activation write: delete what this attempt stored, unless another
    worker has taken this upload over (it writes the same keys) or the image now uses it.
    Deleted, delayed-deleted, reaped or superseded: nothing else will ever remove it."""
    try:
        current: Image | None = image_db.get(image_id)
    except NotFound:
        current = None
    if current is not None and current.upload is not None and current.upload.id == pending.id:
        return
    in_use = {loc.key for loc in current.locations} if current is not None else set()
    for location in stored:
        if location.key not in in_use:
            objects.delete(location.key)
    objects.delete(pending.key)


@dataclass
class _Lease:
    """The worker's claim on an image, renewed as work progresses: by the steps that report
    progress, and by a heartbeat thread around steps that do not (a subprocess, a copy)."""

    image: Image
    clock: Clock
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._renewed_at = self.clock()
        self._seconds = get_settings().import_lease_seconds

    def renew_if_due(self, _bytes_done: int = 0) -> None:
        """Extend the lease once a third of it has passed.

        Raises:
            LeaseLost: the claim is no longer ours (taken over, failed or deleted).
        """
        with self._lock:
            now = self.clock()
            if now - self._renewed_at < self._seconds / 3:
                return
            try:
                self.image = import_db.renew(self.image, now + self._seconds)
            except StaleWrite as exc:
                raise LeaseLost() from exc
            self._renewed_at = now

    @contextmanager
    def kept_alive(self, beat_seconds: float | None = None) -> Iterator[None]:
        """Renew the lease from a heartbeat thread while the block runs.

        Raises:
            LeaseLost: the lease was lost meanwhile (raised when the block ends).
        """
        stop = threading.Event()
        lost: list[LeaseLost] = []

        def beat() -> None:
            while not stop.wait(beat_seconds or self._seconds / 6):
                try:
                    self.renew_if_due()
                except LeaseLost as exc:
                    lost.append(exc)
                    return
                except Exception:  # noqa: BLE001 - a failed beat is retried on the next one
                    log.warning("lease renewal failed", exc_info=True)

        heart = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        heart.start()
        try:
            yield
        finally:
            stop.set()
            heart.join()
        if lost:
            raise lost[0]

    def release(self, error: str) -> None:
        """Give the lease up after an unexpected error, noting it on the image (best effort)."""
        try:
            self.image = import_db.renew(self.image, 0, error=error)
        except Exception:  # noqa: BLE001 - already failing; the lease lapses on its own
            log.exception("could not release the import lease", extra={"image_id": self.image.id})
