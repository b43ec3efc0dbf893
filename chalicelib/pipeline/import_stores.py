"""Imports into chosen stores (glance-direct and web-download with `stores` or `all_stores`,
several stores configured), reported as Glance reports them: the target stores are listed in
`os_glance_importing_to_stores` from the request on, a failed import moves them to
`os_glance_failed_import`.

Data is always verified in the default store's bucket (where it was staged); once the image
is active there, the worker copies it into the other target stores (the copy-image path,
in the same invocation, with the import's task) and, if the default store was not a target,
removes it from there."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib import stores
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Image, utcnow
from chalicelib.domain.stores import (IMPORTING_PROPERTY, LocationStatus, parse_selection,
                                      progress, with_locations, with_progress)
from chalicelib.lifecycle import deletes
from chalicelib.pipeline.copies import copy_to_stores
from chalicelib.pipeline.requests import CopyRequest

def with_targets(image: Image, body: Mapping[str, Any]) -> Image:
    """The image with its import's target stores listed as importing (and no longer failed);
    unchanged with one store configured, where Glance reports no stores.

    Raises:
        Invalid: `stores`/`all_stores` are malformed.
        Conflict: a store is not configured (Glance answers 409).
    """
    if not stores.multiple():
        return image
    selection = parse_selection(body)
    if selection.all_stores:
        targets = [s.id for s in stores.writable()]
    elif selection.stores:
        for store_id in selection.stores:
            stores.get_writable(store_id)  # 409 for an unknown or read-only store
        targets = list(selection.stores)
    else:
        targets = [get_settings().default_store.id]
    return with_progress(image, importing=targets, retried=targets)


def report_failure(failed: Image) -> None:
    """After an import failed: every store it was still importing to joins the failed list
    (a conditional write on a fresh read)."""
    if progress(failed, IMPORTING_PROPERTY):
        image_db.update(failed.id, lambda i: with_progress(
            i, failed=progress(i, IMPORTING_PROPERTY)))


def after_activation(active: Image, task_id: str | None) -> bool:
    """Fill the import's other target stores from the default one; False when there is
    nothing to do (the caller finishes the task), True when the copy finished it."""
    targets = progress(active, IMPORTING_PROPERTY)
    default = get_settings().default_store.id
    others = tuple(s for s in targets if s != default)
    if not targets:
        return False
    image = _mark_done(active.id, default) if default in targets else active
    if not others:
        return False
    result = copy_to_stores(CopyRequest(image.id, others, _must_succeed(task_id), task_id))
    if default not in targets and result.copied and not result.rolled_back:
        _leave_default(image, default)
    return True


def _mark_done(image_id: str, store_id: str) -> Image:
    return image_db.update(image_id, lambda i: with_progress(i, done=[store_id]))


def _must_succeed(task_id: str | None) -> bool:
    # The import request is kept on its task (Glance's input.import_req).
    if task_id is None:
        return True
    try:
        request = task_db.get(task_id).input.get("import_req") or {}
    except NotFound:
        return True
    return request.get("all_stores_must_succeed", True) is not False


def _leave_default(image: Image, default: str) -> None:
    # The default store only held the data to verify it: the request did not ask for it.
    # Its copies are marked pending_delete, then removed as a store delete removes them.
    try:
        doomed = image_db.update(image.id, lambda i: replace(
            with_locations(i, default, LocationStatus.PENDING_DELETE), updated_at=utcnow()))
    except NotFound:
        return
    deletes.drop_doomed_locations(doomed)
