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
from chalicelib.domain.image import Image, Status, utcnow
from chalicelib.domain.stores import (FAILED_PROPERTY, IMPORTING_PROPERTY, LocationStatus,
                                      parse_selection, progress, with_locations, with_progress)
from chalicelib.lifecycle import deletes
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.copies import Copied, copy_all, dead_letter, finish_task
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


def stored_in_default(result: Image) -> Image:
    """The verified image with the default store (where the data was staged, verified and
    now lies) no longer listed as importing: written by the activation itself, so a crash
    after it never leaves that store pending."""
    default = get_settings().default_store.id
    if default not in progress(result, IMPORTING_PROPERTY):
        return result
    return with_progress(result, done=[default])


def finish(active: Image, task_id: str | None, targets: tuple[str, ...] | None = None) -> None:
    """After the activation: fill the import's other target stores from the default one,
    leave the default store if it was not a target, then finish the task. `targets` are the
    stores the import asked for (read from its task when not given).

    Idempotent, so that a redelivered event resumes what a crash cut short: stores already
    filled are skipped, a finished task stays as it is."""
    others = progress(active, IMPORTING_PROPERTY)
    request = _import_request(task_id) if others or targets is None else {}
    if targets is None:
        targets = _targets(request)
    copy = CopyRequest(active.id, others,
                       request.get("all_stores_must_succeed", True) is not False, task_id)
    if others:
        task_progress.processing(task_id, f"Copying image data to store(s) {', '.join(others)}.")
    result = copy_all(copy) if others else Copied()
    default = get_settings().default_store.id
    if stores.multiple() and default not in targets:
        _leave_default(active.id, default)
    if not others and len(targets) > 1:  # a redelivery after the copies: what they failed
        result = Copied(failed=_failed_targets(active.id, targets))
    if result == Copied():
        task_progress.succeed(task_id, active)
    else:
        finish_task(copy, result)


def resume(image: Image, upload_id: str) -> bool:
    """A redelivered event of an upload that already activated its image, whose import task
    is unfinished: finish what a crash after the activation cut short. False if there is
    nothing to finish."""
    task_id = _unfinished_import_task(image, upload_id)
    if task_id is None:
        return False
    finish(image, task_id)
    return True


def give_up(image: Image, upload_id: str) -> bool:
    """A dead-lettered event of an upload that activated its image, whose import task is
    unfinished: the target stores still unfilled fail, and the task with them (it succeeds
    if none is left). False if there is nothing to finish."""
    task_id = _unfinished_import_task(image, upload_id)
    if task_id is None:
        return False
    others = progress(image, IMPORTING_PROPERTY)
    if not others or not dead_letter(CopyRequest(image.id, others, True, task_id)):
        task_progress.succeed(task_id, image)
    return True


def _unfinished_import_task(image: Image, upload_id: str) -> str | None:
    # The image's data is this upload's (its location has the upload's id), and the import
    # that activated it has not finished (a copy-image meanwhile has its own task).
    if image.status not in (Status.ACTIVE, Status.DEACTIVATED) or not any(
            loc.id == upload_id for loc in image.locations):
        return None
    return task_progress.import_task_of(image.id)


def _import_request(task_id: str | None) -> Mapping[str, Any]:
    # The import request is kept on its task (Glance's input.import_req).
    if task_id is None:
        return {}
    try:
        return task_db.get(task_id).input.get("import_req") or {}
    except NotFound:
        return {}


def _targets(request: Mapping[str, Any]) -> tuple[str, ...]:
    # The stores an import request asked for (with one store configured: none).
    if not stores.multiple():
        return ()
    selection = parse_selection(request)
    if selection.all_stores:
        return tuple(s.id for s in stores.writable())
    return tuple(selection.stores) or (get_settings().default_store.id,)


def _failed_targets(image_id: str, targets: tuple[str, ...]) -> tuple[str, ...]:
    # A store the request named is in the failed list only if this import failed it: the
    # request took its targets out of that list.
    try:
        image = image_db.get(image_id)
    except NotFound:
        return ()
    return tuple(s for s in progress(image, FAILED_PROPERTY) if s in targets)


def _leave_default(image_id: str, default: str) -> None:
    # The default store only held the data to verify it: the request did not ask for it.
    # Its copies are marked pending_delete, then removed as a store delete removes them;
    # only while another store holds the data (a failed copy leaves it where it is).
    try:
        if not _held_elsewhere(image_db.get(image_id), default):
            return
        doomed = image_db.update(image_id, lambda i: replace(
            with_locations(i, default, LocationStatus.PENDING_DELETE), updated_at=utcnow())
            if _held_elsewhere(i, default) else i)
    except NotFound:
        return
    deletes.drop_doomed_locations(doomed)


def _held_elsewhere(image: Image, default: str) -> bool:
    held = {loc.store for loc in image.locations if loc.status == LocationStatus.ACTIVE}
    return default in held and bool(held - {default})
