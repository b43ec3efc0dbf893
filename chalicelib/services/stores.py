"""Multi-store use cases: copy an active image into more stores (copy-image) and remove one
store's copy (`DELETE /v2/stores/{store}/{image}`)."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from chalicelib import events, stores
from chalicelib.db import images as image_db
from chalicelib.domain import stores as store_rules
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, NotFound, StaleWrite
from chalicelib.domain.image import Image, Status, utcnow
from chalicelib.domain.stores import IMPORTING_PROPERTY, LocationStatus, StoreSelection
from chalicelib.domain.tasks import new_task_id
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.requests import CopyRequest, request_copy
from chalicelib.lifecycle import deletes
from chalicelib.services import tasks
from chalicelib.services.images import get_image_for

log = logging.getLogger(__name__)


def copy_image(ctx: RequestContext, image: Image, selection: StoreSelection,
               body: dict[str, Any]) -> Image:
    """copy-image on an image the caller passed the `copy_image` rule for (admins by
    default): list the target stores as importing and ask the worker to copy (202).

    Raises:
        Conflict: the image is not active, a store is unknown or still being filled, or the
            image changed meanwhile.
        Invalid: a store named explicitly already holds the image.
    """
    if image.status is not Status.ACTIVE:
        raise Conflict("Only images with status active can be targeted for copying")
    targets = store_rules.copy_targets(image, selection, stores.configured())
    if not targets:  # all_stores, and the image is in every store already
        log.info("copy-image: nothing to copy", extra={"image_id": image.id})
        return image
    # The task first: from the moment the image lists its stores as importing, a task
    # exists that the reaper can find and send again if the request below is lost.
    task_id = tasks.start_import(ctx, image, "copy-image", body, task_id=new_task_id())
    try:
        started = image_db.save(replace(
            store_rules.with_progress(image, importing=targets, retried=targets),
            import_error=None, updated_at=utcnow()))
    except StaleWrite:
        task_progress.fail(task_id, "Copy not started: the image changed meanwhile.")
        raise
    try:
        request_copy(CopyRequest(image.id, targets, selection.all_stores_must_succeed, task_id))
    except Exception:  # noqa: BLE001 - the task and the image record it; the reaper resends
        log.exception("copy request not sent; the reaper will send it again")
    log.info("copy-image requested", extra={"image_id": image.id, "stores": list(targets)})
    return started


def delete_from_store(ctx: RequestContext, store_id: str, image_id: str) -> None:
    """`DELETE /v2/stores/{store}/{image}`: remove one store's copy, never the last one
    (the `delete_image_location` rule: admins by default). The copy's locations go
    `pending_delete`, then their data is removed; what the store refuses, the scrubber
    retries until it is gone.

    Raises:
        Conflict: unknown store, image not active, a copy to this store still running, or
            the image changed meanwhile.
        NotFound: the caller may not see the image, or the store does not hold it.
        Forbidden: the caller is not an admin, or this is the image's only store.
    """
    stores.get(store_id)
    image = get_image_for(ctx, image_id, "delete_image_location")
    if image.status is not Status.ACTIVE:
        raise Conflict("It's not allowed to remove image data from store if image status is "
                       "not 'active'")
    if store_id in store_rules.progress(image, IMPORTING_PROPERTY):
        raise Conflict(f"Image {image.id} is being copied to store {store_id}; retry when "
                       "the copy has finished.")
    holding = store_rules.stores_of(image)
    if len(holding) == 1:  # checked first, as by Glance
        raise Forbidden("Cannot delete image data from the only store containing it. "
                        "Consider deleting the image instead.")
    if store_id not in holding:
        raise NotFound(f"Image {image.id} is not stored in store {store_id}.")
    # Conditional on the version read: a concurrent delete from the other store loses (409),
    # so two deletes can never remove the last copy between them.
    # From here the delete is recorded: what the store refuses now, the scrubber retries.
    marked = image_db.save(replace(store_rules.with_locations(
        image, store_id, LocationStatus.PENDING_DELETE), updated_at=utcnow()))
    deletes.drop_doomed_locations(marked)
    events.publish_image(events.IMAGE_UPDATE, marked, store_deleted=store_id)
    log.info("image data deleted from a store", extra={"image_id": image.id, "store": store_id})
