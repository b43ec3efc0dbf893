"""copy-image's worker: copy an active image's data server-side into more stores, one store
at a time; a store's new locations stay `pending` until all its objects are in place.

Progress shows on the image as in Glance: a store leaves `os_glance_importing_to_stores` when
it is handled and joins `os_glance_failed_import` when it failed. With
all_stores_must_succeed (the default) one failure also removes the copies this request made;
without it the successes stay. Every change is a conditional write retried on a fresh read
(db.images.update), so concurrent copies and edits never lose a location. SQS may deliver
twice: a store no longer listed as importing is finished, and a store's pending leftovers
from an interrupted attempt are removed before it is copied again."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from chalicelib import events, stores, tracing
from chalicelib.blobs import keys
from chalicelib.db import images as image_db
from chalicelib.db.along import Along
from chalicelib.domain import usage
from chalicelib.domain.errors import Conflict, NotFound, QuotaExceeded, StoreFailed
from chalicelib.domain.image import Image, Location, Status, utcnow
from chalicelib.domain.stores import (IMPORTING_PROPERTY, LocationStatus, download_order,
                                      progress, stored_cost, with_progress)
from chalicelib.lifecycle import quota_holds
from chalicelib.pipeline import reasons, task_progress
from chalicelib.pipeline.requests import CopyRequest

log = logging.getLogger(__name__)
# Statuses in which an image's data may still be copied (Glance stops only for deleted).
_COPYABLE = (Status.ACTIVE, Status.DEACTIVATED)


@dataclass(frozen=True, slots=True)
class Copied:
    """What one copy request did, store by store."""

    copied: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    rolled_back: tuple[str, ...] = ()
    image_gone: bool = False


class _ImageGone(Exception):
    """The image was deleted (or left the copyable statuses) while we copied."""


def copy_to_stores(request: CopyRequest) -> Copied:
    """Copy the image into each requested store still listed as importing, keeping the
    request's task current. Errors other than a store's own propagate, so that SQS
    redelivers the request."""
    task_progress.processing(request.task_id,
                             f"Copying image data to store(s) {', '.join(request.stores)}.")
    result = copy_all(request)
    finish_task(request, result)
    return result


def finish_task(request: CopyRequest, result: Copied) -> None:
    """End the request's task as `result` says: failed when the image went, when copies
    were rolled back, or when a store failed and all had to succeed; else succeeded."""
    if request.task_id is None:
        return
    image: Image | None = None
    if not result.image_gone:  # known gone: no read needed
        try:
            image = image_db.get(request.image_id)
        except NotFound:
            pass
    if image is None:
        task_progress.fail(request.task_id, "Copy abandoned: the image was deleted.")
    elif result.rolled_back or (result.failed and request.all_stores_must_succeed):
        task_progress.fail(request.task_id, f"Copy to store(s) {', '.join(result.failed)} "
                                            "failed; all stores had to succeed.")
    else:
        failed = f"; failed: {', '.join(result.failed)}" if result.failed else ""
        task_progress.succeed(request.task_id, image,
                              f"Copied to store(s) {', '.join(result.copied) or 'none'}{failed}.")


def copy_all(request: CopyRequest) -> Copied:
    """Copy the image into each requested store still listed as importing, one at a time
    (the task is the caller's to finish)."""
    copied: list[str] = []
    failed: list[str] = []
    for position, store_id in enumerate(request.stores):
        try:
            image = _copyable(request.image_id)
            if store_id not in progress(image, IMPORTING_PROPERTY):
                continue  # handled by an earlier delivery
            _copy_store(image, store_id)
            copied.append(store_id)
        except _ImageGone:
            log.info("copy abandoned: image gone", extra={"image_id": request.image_id})
            _settle(request.image_id,
                    lambda i: with_progress(i, done=request.stores[position:]))
            return Copied(tuple(copied), tuple(failed), image_gone=True)
        except (StoreFailed, QuotaExceeded) as exc:
            failed.append(store_id)
            if not request.all_stores_must_succeed:
                _record_failure(request.image_id, store_id, exc.message)
                continue
            # Every store before this one was empty when the request was accepted (the API
            # refuses stores holding the image), so what they hold now this request put there.
            earlier = request.stores[:position]
            for done in earlier:
                _drop_store(request.image_id, done)
            _record_failure(request.image_id, store_id, exc.message,
                            abandoned=request.stores[position + 1:])
            return Copied((), tuple(failed), tuple(earlier))
    return Copied(tuple(copied), tuple(failed))


def dead_letter(request: CopyRequest) -> bool:
    """A copy request that failed every attempt: its unfinished stores fail and their pending
    copies go. True if any store was still unfinished."""
    try:
        image = image_db.get(request.image_id)
    except NotFound:
        return False
    unfinished = [s for s in request.stores if s in progress(image, IMPORTING_PROPERTY)]
    for store_id in unfinished:
        _drop_store(request.image_id, store_id)
    if unfinished:
        reason = "Copy failed after repeated attempts."
        _settle(request.image_id, lambda i: replace(with_progress(i, failed=unfinished),
                                                    import_error=reason))
        task_progress.fail(request.task_id, reason)
    return bool(unfinished)


def _copy_store(image: Image, store_id: str) -> None:
    try:
        target = stores.get(store_id)
    except Conflict as exc:  # taken out of the configuration since the request was accepted
        raise StoreFailed(exc.message) from exc
    # Anything this store holds while it is listed as importing is an interrupted attempt's.
    _drop_store(image.id, store_id)
    active = [loc for loc in image.locations if loc.status == LocationStatus.ACTIVE]
    if not active:
        raise StoreFailed("The image has no active data to copy.")
    source_store = download_order(active, stores.configured())[0].store
    sources = [loc for loc in active if loc.store == source_store]
    pending = tuple(_pending_copy(image.id, source, store_id) for source in sources)
    cost = stored_cost(image, pending)
    # Charged in the same transaction as the write that records the pending copies.
    recorded = _settle(image.id, lambda i: replace(i, locations=(*i.locations, *pending)),
                       lambda i: Along(i.owner, cost, quota_holds.limits_of(i.owner)))
    if recorded is None:
        raise _ImageGone()
    with tracing.subsegment("copy", image_id=image.id, store=store_id):
        try:
            for source, copy in zip(sources, pending):
                stores.copy(source, target, copy.key)
        except StoreFailed:
            _drop_store(image.id, store_id)
            raise
    ids = {copy.id for copy in pending}
    activated = _settle(image.id, lambda i: with_progress(
        _with_status(i, ids, LocationStatus.ACTIVE), done=[store_id]))
    if activated is None:  # deleted while we copied: leave nothing behind
        for copy in pending:
            stores.delete(copy)
        raise _ImageGone()
    events.publish_image(events.IMAGE_UPLOAD, activated, store=store_id)
    log.info("image copied", extra={"image_id": image.id, "store": store_id})


def _record_failure(image_id: str, store_id: str, reason: str,
                    abandoned: tuple[str, ...] = ()) -> None:
    message = reasons.for_tenant(f"Copy to store '{store_id}' failed: {reason}")
    log.warning("copy to a store failed", extra={"image_id": image_id, "store": store_id,
                                                 "reason": reasons.for_log(reason)})
    failed = _settle(image_id, lambda i: replace(
        with_progress(i, done=abandoned, failed=[store_id]), import_error=message))
    if failed is not None:
        events.publish_image(events.IMAGE_IMPORT_FAILURE, failed, store=store_id,
                             reason=message)


def _drop_store(image_id: str, store_id: str) -> None:
    """Remove the image's locations in one store: marked pending_delete, their objects
    deleted, then dropped from the record."""
    try:
        image = image_db.get(image_id)
    except NotFound:
        return
    doomed = [loc for loc in image.locations if loc.store == store_id]
    if not doomed:
        return
    ids = {loc.id for loc in doomed}
    _settle(image_id, lambda i: _with_status(i, ids, LocationStatus.PENDING_DELETE))
    for location in doomed:
        try:
            stores.delete(location)
        except StoreFailed as exc:  # the store is failing anyway; the object is an orphan
            log.warning("copy left an object behind",
                        extra={"image_id": image_id, "key": location.key, "reason": exc.message})
    # Given back in the same transaction as the write that drops them.
    _settle(image_id, lambda i: replace(i, locations=tuple(
        loc for loc in i.locations if loc.id not in ids)),
        lambda i: Along(i.owner, usage.negate(stored_cost(image, doomed))))


def _with_status(image: Image, ids: set[str], status: str) -> Image:
    return replace(image, locations=tuple(replace(loc, status=status) if loc.id in ids else loc
                                          for loc in image.locations))


def _pending_copy(image_id: str, source: Location, store_id: str) -> Location:
    copy_id = uuid.uuid4().hex
    return replace(source, id=copy_id, store=store_id, key=keys.image_key(image_id, copy_id),
                   status=LocationStatus.PENDING)


def _copyable(image_id: str) -> Image:
    try:
        image = image_db.get(image_id)
    except NotFound as exc:
        raise _ImageGone() from exc
    if image.status not in _COPYABLE:
        raise _ImageGone()
    return image


def _settle(image_id: str, change: Callable[[Image], Image],
            along: Callable[[Image], Along] | None = None) -> Image | None:
    """Apply a change (with what goes `along` it) with retries on fresh reads; None when the
    image is gone."""
    try:
        return image_db.update(image_id, lambda i: replace(change(i), updated_at=utcnow()),
                               along=along)
    except NotFound:
        return None
