"""An import's task as the worker sees it: `processing` once claimed, progress in its message
while the data streams (throttled), `success` on activation, `failure` with the reason; and
the reaper's sweep of tasks whose import went away without an answer."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.domain.errors import NotFound, StaleWrite
from chalicelib.domain.image import Image, Status, utcnow
from chalicelib.domain.locations import TASK_PROPERTY
from chalicelib.domain.stores import IMPORTING_PROPERTY
from chalicelib.domain.tasks import (TRANSITIONS, Task, TaskStatus, human_size,
                                     progress_message, transition)
from chalicelib.domain.uploads import MIB

log = logging.getLogger(__name__)
COPY_IMAGE = "copy-image"
# A progress message is written after this much data or this much time, whichever comes
# first: a few writes per GiB, and a moving message even on a slow stream.
PROGRESS_BYTES = 64 * MIB
PROGRESS_SECONDS = 5.0
_EVENTS = {TaskStatus.PROCESSING: events.TASK_PROCESSING, TaskStatus.SUCCESS: events.TASK_SUCCESS,
           TaskStatus.FAILURE: events.TASK_FAILURE}


class Progress:
    """Observes the import's chunks and keeps the task's message current ("Copied 1.2 GiB of
    4 GiB"), with at most one write per PROGRESS_BYTES or PROGRESS_SECONDS."""

    def __init__(self, task_id: str | None, total: int, clock: Callable[[], float]) -> None:
        self._task_id = task_id
        self._total = total
        self._clock = clock
        self._done = 0
        self._written_bytes = 0
        self._written_at = clock()

    def observe(self, chunk: bytes) -> None:
        """Count a chunk; write the message when one is due."""
        self.reached(self._done + len(chunk))

    def reached(self, done: int) -> None:
        """`done` bytes so far; write the message when one is due."""
        self._done = done
        if self._task_id is None:
            return
        now = self._clock()
        if (self._done - self._written_bytes < PROGRESS_BYTES
                and now - self._written_at < PROGRESS_SECONDS):
            return
        self._written_bytes, self._written_at = self._done, now
        if not task_db.note(self._task_id, progress_message(self._done, self._total), utcnow()):
            self._task_id = None  # finished or gone meanwhile (e.g. reaped): stop writing


def begin(image: Image, clock: Callable[[], float]) -> Progress:
    """Mark the task of the image's upload `processing` (a worker taking over a stalled
    import finds it so already) and return the observer that reports progress."""
    assert image.upload is not None
    task_id, total = image.upload.task_id, image.upload.size
    processing(task_id, f"Copying and verifying {human_size(total)} of image data.")
    return Progress(task_id, total, clock)


def processing(task_id: str | None, message: str) -> None:
    """A worker started on the task's import (for imports without an upload: copy-image)."""
    if task_id and not _advance(task_id, TaskStatus.PROCESSING, message=message):
        task_db.note(task_id, message, utcnow())


def succeed(task_id: str | None, image: Image, message: str | None = None) -> None:
    """The import is done: the task succeeds with the image's id as its result."""
    _advance(task_id, TaskStatus.SUCCESS, result={"image_id": image.id},
             message=message or f"Image {image.id} is active: "
                                f"{human_size(image.size or 0)} copied and verified.")


def fail(task_id: str | None, reason: str) -> None:
    """The import failed: the task fails with the reason the image shows."""
    _advance(task_id, TaskStatus.FAILURE, message=reason)


def reap_orphans(changed_before: str) -> tuple[str, ...]:
    """Finish unfinished tasks, unchanged since `changed_before`, whose import is no longer
    running: failed if the image was deleted or its upload aborted or replaced; succeeded if
    the import activated the image and a crash cut its last writes short. Returns the ids of
    the failed ones."""
    failed = []
    for task in task_db.unfinished(changed_before):
        try:
            image: Image | None = image_db.get(task.image_id)
        except NotFound:
            image = None
        if image is not None and _activated_by(task, image):
            succeed(task.id, image)
            continue
        reason = _orphan_reason(task, image)
        if reason and _advance(task.id, TaskStatus.FAILURE, message=reason):
            failed.append(task.id)
    return tuple(failed)


def unclaimed_copies(changed_before: str) -> Iterator[tuple[Task, Image]]:
    """copy-image tasks still pending (no worker picked their request up) and unchanged
    since `changed_before`, whose image still lists stores as importing: the request's
    send was lost."""
    for task in task_db.unfinished(changed_before):
        if task.status is not TaskStatus.PENDING or _method(task) != COPY_IMAGE:
            continue
        try:
            image = image_db.get(task.image_id)
        except NotFound:
            continue  # reap_orphans fails it
        if image.properties.get(IMPORTING_PROPERTY):
            yield task, image


def import_task_of(image_id: str) -> str | None:
    """The id of the image's newest import task still `processing` (not a copy-image's):
    after an activation, the task of the import that activated it (a worker began it, and an
    active image takes no other import)."""
    for task in task_db.for_image(image_id):  # newest first
        if task.status is TaskStatus.PROCESSING and _method(task) != COPY_IMAGE:
            return task.id
    return None


def _method(task: Task) -> str | None:
    return task.input.get("import_req", {}).get("method", {}).get("name")


def _activated_by(task: Task, image: Image) -> bool:
    return (image.status in (Status.ACTIVE, Status.DEACTIVATED)
            and not image.properties.get(IMPORTING_PROPERTY)
            and import_task_of(image.id) == task.id)


def _orphan_reason(task: Task, image: Image | None) -> str | None:
    if image is None:
        return "Import abandoned: the image was deleted before the import finished."
    if image.upload is not None and image.upload.task_id == task.id:
        return None  # still this import's: the image's own reaper rules apply
    if image.properties.get(IMPORTING_PROPERTY):
        return None  # a copy-image still running (its DLQ handler fails it if it dies)
    if image.properties.get(TASK_PROPERTY) == task.id:
        return ("Location import abandoned: its request was lost or its worker stopped; the "
                "image is still queued and may take a location again.")
    return ("Import abandoned: the upload was aborted or replaced by a newer one before "
            "the import finished.")


def _advance(task_id: str | None, to: TaskStatus, **changes: Any) -> Task | None:
    """Move the task to `to` once (a conditional write on its status); None if there is no
    such task or it has already moved past (a duplicate event, a race with the reaper)."""
    if task_id is None:
        return None
    try:
        task = task_db.get(task_id)
    except NotFound:
        log.warning("import task not found", extra={"task_id": task_id})
        return None
    if to not in TRANSITIONS[task.status]:
        return None
    moved = transition(task, to, utcnow(), get_settings().task_ttl_seconds, **changes)
    try:
        task_db.save(moved, from_status=task.status)
    except StaleWrite:
        return None
    events.publish_task(_EVENTS[to], moved)
    return moved
