"""Task use cases: record the task of each import as it starts; show tasks to those who may
see them (the task's own project and admins)."""
from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib import events
from chalicelib.db import tasks as task_db
from chalicelib.domain import policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, Invalid, NotFound
from chalicelib.domain.image import Image, utcnow
from chalicelib.domain.tasks import Task, TaskQuery, matches, new_import_task, ordered
from chalicelib.services.images import get_image_for

log = logging.getLogger(__name__)
# Import "methods" of Glint's own data paths, named in the task's input like Glance's methods.
DIRECT_UPLOAD = "glint-direct-upload"  # presigned URLs (POST /v2/images/{id}/uploads)
FILE_UPLOAD = "glint-file-upload"  # PUT /v2/images/{id}/file, verified by the same worker code


@dataclass(frozen=True, slots=True)
class Page:
    """One page of tasks; `next_marker` is None on the last page."""

    tasks: list[Task]
    next_marker: str | None


def start_import(ctx: RequestContext, image: Image, method: str,
                 body: Mapping[str, Any] | None = None, task_id: str | None = None,
                 legacy_input: Mapping[str, Any] | None = None) -> str:
    """Record the pending task of the import just started on `image` (its id saved on the
    image's upload, or for copy-image carried by the copy request, so the worker finds it)
    and return the id. `body` is the import request as the client sent it; Glance keeps it
    as the task's `input.import_req`. A legacy task (`POST /v2/tasks`) keeps its own input."""
    task_id = task_id or (image.upload.task_id if image.upload else None)
    assert task_id is not None
    waiting = ("Waiting for the image data to be uploaded." if method == DIRECT_UPLOAD
               else "Waiting for a worker to start the import.")
    task = task_db.create(new_import_task(task_id, ctx, image.id,
                                          body or {"method": {"name": method}}, waiting,
                                          utcnow(), legacy_input))
    events.publish_task(events.TASK_CREATE, task)
    log.info("import task created", extra={"task_id": task.id, "image_id": image.id,
                                           "method": method})
    return task.id


def get_task(ctx: RequestContext, task_id: str) -> Task:
    """`GET /v2/tasks/{id}`: a task of the caller's project (any task, for an admin).

    Raises:
        NotFound: no such task, it expired, or it belongs to another project.
        Forbidden: the `get_task` rule refuses the caller.
    """
    task = task_db.get(task_id)
    if not _in_reach(ctx, task):
        raise NotFound(f"Task with the given ID {task_id} could not be found")
    policy.require_allowed(ctx, "get_task", {"project_id": task.owner, "owner": task.owner})
    return task


def image_tasks(ctx: RequestContext, image_id: str) -> list[Task]:
    """`GET /v2/images/{id}/tasks`: the image's import tasks the caller may see, newest
    first.

    Raises:
        NotFound: the image is invisible to the caller, or the rule refuses it (as Glance).
    """
    try:
        image = get_image_for(ctx, image_id, "get_image_tasks")
    except Forbidden as exc:
        raise NotFound(f"No image found with ID {image_id}") from exc
    return [t for t in task_db.for_image(image.id) if _in_reach(ctx, t)]


def list_tasks(ctx: RequestContext, query: TaskQuery) -> Page:
    """`GET /v2/tasks`: every task (an admin's call by default: `tasks_api_access`).

    Raises:
        Forbidden: the caller may not use the tasks API.
        Invalid: the marker names no task (Glance answers 400).
    """
    require_tasks_api(ctx, "get_tasks")
    marker = None
    if query.marker:
        try:
            marker = task_db.get(query.marker)
        except NotFound as exc:
            raise Invalid(f"Task with the given ID {query.marker} could not be found") from exc
    if query.newest_first:  # the index's own order: stream, stop when the page is full
        found = list(itertools.islice((t for t in task_db.newest_first(before=marker)
                                       if matches(t, query)), query.limit + 1))
    else:  # tasks expire, so the whole (filtered) set stays small enough to sort
        everything = ordered((t for t in task_db.newest_first() if matches(t, query)), query)
        ids = [t.id for t in everything]
        if marker is not None and marker.id not in ids:
            raise Invalid(f"Invalid marker. Task {marker.id} is not in this list.")
        start = ids.index(marker.id) + 1 if marker is not None else 0
        found = everything[start:start + query.limit + 1]
    page = found[:query.limit]
    return Page(page, page[-1].id if len(found) > query.limit else None)


def require_tasks_api(ctx: RequestContext, rule: str) -> None:
    """Glance's `tasks_api_access` (admin by default), then the call's own rule.

    Raises:
        Forbidden: either rule refuses the caller.
    """
    target = {"project_id": ctx.project_id, "owner": ctx.project_id}
    policy.require_allowed(ctx, "tasks_api_access", target)
    policy.require_allowed(ctx, rule, target)


def _in_reach(ctx: RequestContext, task: Task) -> bool:
    """Tenancy, before any rule: admins reach every task, others their project's."""
    return ctx.is_admin or task.owner == ctx.project_id
