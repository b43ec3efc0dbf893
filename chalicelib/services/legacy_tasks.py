"""Glance's legacy task API (`POST /v2/tasks`, type `import`, deprecated there): a new image
made of the task's image properties, filled from `import_from` by the web-download path,
with the same URL policy and SSRF guard. Admins only by default (`tasks_api_access`)."""
from __future__ import annotations

import logging
from typing import Any

from chalicelib import events
from chalicelib.db import tasks as task_db
from chalicelib.domain.context import RequestContext
from chalicelib.domain.legacy_tasks import parse_legacy_task
from chalicelib.domain.tasks import Task
from chalicelib.lifecycle import deletes
from chalicelib.services import image_data, images, tasks

log = logging.getLogger(__name__)


def create_task(ctx: RequestContext, body: Any) -> Task:
    """`POST /v2/tasks`: the pending `import` task; the worker fetches, verifies and
    activates, and the task ends `success` with `result.image_id` or `failure`.

    Raises:
        Forbidden: the caller may not use the tasks API or create tasks.
        Invalid: the body is not an import task, or its URL is refused (nothing is created).
        QuotaExceeded: the caller's project may not have another image.
    """
    tasks.require_tasks_api(ctx, "add_task")
    legacy = parse_legacy_task(body)
    method = {"method": {"name": "web-download", "uri": legacy.import_from}}
    image_data.parse_import_request(method)  # the URL policy, before anything is created
    image = images.create_image(ctx, legacy.image_properties)
    try:
        started = image_data.import_image(ctx, image.id, method, legacy_input=legacy.input)
    except Exception:
        deletes.delete_for_good(image, events.IMAGE_DELETE)  # no image left without its task
        raise
    assert started.upload is not None and started.upload.task_id is not None
    log.info("legacy import task created", extra={"image_id": image.id,
                                                  "task_id": started.upload.task_id})
    return task_db.get(started.upload.task_id)
