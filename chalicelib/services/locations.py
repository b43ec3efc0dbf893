"""The location API of Images API 2.17: `POST /v2/images/{id}/locations` (add the data's
location in one of this deployment's http stores to a queued image; the worker hashes it and
activates the image) and `GET /v2/images/{id}/locations` (the service role's view)."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from chalicelib import events, stores
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.domain import locations, policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.domain.image import Status, utcnow
from chalicelib.domain.locations import TASK_PROPERTY
from chalicelib.domain.stores import store_for_url
from chalicelib.domain.tasks import FINISHED, new_location_task, new_task_id
from chalicelib.pipeline.fetch_policy import validate_uri
from chalicelib.pipeline.requests import LocationRequest, request_location
from chalicelib.pipeline.web_download import policy_from_settings
from chalicelib.services.images import get_image_for

log = logging.getLogger(__name__)
SERVICE_ROLE = "service"


def add_location(ctx: RequestContext, image_id: str, body: Any) -> None:
    """Record the location import and queue it (202); Glance's checks in Glance's order.

    Raises:
        NotFound: the caller cannot see the image.
        Conflict: the image is not queued, or another location import holds it.
        Forbidden: the `add_image_location` rule refuses the caller, or a caller without the
            service role names no http store's URL (Glance: http store only for users).
        Invalid: a malformed body or hash, or a URL outside every configured store or
            refused by the web-download guard ("does not pass filtering").
    """
    image = get_image_for(ctx, image_id, "get_image")
    if image.status is not Status.QUEUED:
        raise Conflict(f"It's not allowed to add locations if image status is {image.status}.")
    policy.require(ctx, "add_image_location", image, None)
    request = locations.parse_add_location(body)
    store = store_for_url(request.url, stores.configured())
    if SERVICE_ROLE not in ctx.roles and not any(s.read_only for s in stores.configured()):
        raise Forbidden("http store must be enabled to use location API by normal user.")
    try:
        if store is None:
            raise Invalid("not in a configured store")
        validate_uri(request.url, policy_from_settings())
    except Invalid:
        raise Invalid(f"URI for add location does not pass filtering: {request.url}") from None
    _check_unlocked(image.id, image.properties.get(TASK_PROPERTY))
    task_id = new_task_id()
    # The lock first (a conditional write: two requests cannot both take it), then the task.
    image_db.save(replace(image, properties={**image.properties, TASK_PROPERTY: task_id},
                          import_error=None, updated_at=utcnow()))
    task = task_db.create(new_location_task(task_id, ctx, image.id, request.url,
                                            body.get("validation_data") or {}, utcnow()))
    events.publish_task(events.TASK_CREATE, task)
    # Lost, the task stays pending: the reaper fails it and the image stays queued.
    request_location(LocationRequest(image.id, task_id, store.id, request.url,
                                     request.hash_algo, request.hash_value))
    log.info("location import requested", extra={"image_id": image.id, "task_id": task_id})


def get_locations(ctx: RequestContext, image_id: str) -> list[dict[str, Any]]:
    """The image's readable locations (`fetch_image_location`: the service role).

    Raises:
        NotFound: the caller cannot see the image.
        Forbidden: the rule refuses the caller.
    """
    image = get_image_for(ctx, image_id, "fetch_image_location")
    return locations.document(image, stores.configured())


def _check_unlocked(image_id: str, task_id: str | None) -> None:
    """A location import still running holds the image (Glance's import lock).

    Raises:
        Conflict: it does.
    """
    if not task_id:
        return
    try:
        running = task_db.get(task_id).status not in FINISHED
    except NotFound:
        running = False
    if running:
        raise Conflict(f"New operation on image '{image_id}' is not permitted as prior "
                       "operation is still in progress")
