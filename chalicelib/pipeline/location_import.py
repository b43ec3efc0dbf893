"""The worker's side of `POST /v2/images/{id}/locations` (Images API 2.17): read the data at
an http store's URL once, through web-download's guarded client, to compute its size, md5
and hash; check the declared hash; activate the queued image with that location. Nothing is
stored: the http store keeps the data.

As in Glance 33 (bug 2076648, asserted by tempest's location tests), a failed check leaves
the image `queued` with the reason and the location on it (its store shows in `stores`):
nothing serves it (a queued image has no download), and data uploaded or located later
replaces it on activation."""
from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import replace
from urllib.parse import urlsplit

from chalicelib import events, tracing
from chalicelib.db import images as image_db
from chalicelib.db.along import Along
from chalicelib.domain.errors import FetchFailed, ImageRejected, Invalid, NotFound, StaleWrite
from chalicelib.domain.image import Image, Location, Status, transition, utcnow
from chalicelib.domain.locations import TASK_PROPERTY
from chalicelib.domain.stores import stored_cost
from chalicelib.pipeline import task_progress
from chalicelib.pipeline.fetch import fetch
from chalicelib.pipeline.hashing import OS_HASH_ALGO, digest
from chalicelib.pipeline.requests import LocationRequest
from chalicelib.pipeline.run import Outcome
from chalicelib.pipeline.web_download import policy_from_settings

log = logging.getLogger(__name__)
_ATTEMPTS = 5


def import_location(request: LocationRequest) -> Outcome:
    """Hash and activate; a refused or failed read, or a hash that does not match, fails the
    task and leaves the image queued with the reason. Safe to run twice (SQS may redeliver):
    only a queued image whose task this still is gets activated."""
    if _queued(request) is None:
        return Outcome.IGNORED
    algo = request.hash_algo or OS_HASH_ALGO
    task_progress.processing(request.task_id, "Reading the location's data from "
                                              f"{urlsplit(request.url).hostname} to hash it.")
    chosen = hashlib.new(algo)
    try:
        with tracing.subsegment("location hash", image_id=request.image_id):
            digests = digest(fetch(request.url, policy_from_settings()),
                             observers=(chosen.update,))
    except (FetchFailed, ImageRejected, Invalid) as exc:
        return _fail(request, f"Reading {request.url} failed: {exc.message}")
    value = chosen.hexdigest()
    if request.hash_value and request.hash_value != value:
        return _fail(request, f"os_hash_value: ({request.hash_value}) not matched with actual "
                              f"os_hash_value: ({value})")
    location = _location(request)
    for _ in range(_ATTEMPTS):
        image = _queued(request)
        if image is None:
            return Outcome.IGNORED
        active = replace(transition(image, Status.ACTIVE, utcnow()), locations=(location,),
                         size=digests.size, checksum=digests.md5, os_hash_algo=algo,
                         os_hash_value=value, import_error=None,
                         properties=_unlocked(image))
        # Every location on the record counts against image_size_total (docs/quotas.md).
        along = Along(image.owner, stored_cost(active, active.locations),
                      events=(events.image_entry(events.IMAGE_ACTIVATE, active),))
        try:
            image_db.save(active, along)
        except StaleWrite:
            continue  # a user's edit meanwhile: read again
        events.flush(along.events)
        task_progress.succeed(request.task_id, active,
                              f"Image {image.id} is active at {request.url}.")
        log.info("location added", extra={"image_id": image.id, "store": request.store})
        return Outcome.ACTIVATED
    return _fail(request, "The image kept changing while its location was being added.")


def dead_letter(request: LocationRequest) -> bool:
    """The request exhausted its retries: fail its task (the image is still queued)."""
    return _fail(request, "Adding the location failed on every attempt.") is Outcome.REJECTED


def _fail(request: LocationRequest, reason: str) -> Outcome:
    image = _queued(request)
    if image is not None:
        try:
            image_db.save(replace(image, import_error=reason, updated_at=utcnow(),
                                  locations=(_location(request),),
                                  properties=_unlocked(image)))
        except StaleWrite:
            pass  # edited meanwhile; the task below still says why
    task_progress.fail(request.task_id, reason)
    log.warning("location rejected", extra={"image_id": request.image_id, "reason": reason})
    return Outcome.REJECTED


def _location(request: LocationRequest) -> Location:
    return Location(id=uuid.uuid4().hex, store=request.store, key=request.url)


def _unlocked(image: Image) -> dict[str, str]:
    return {k: v for k, v in image.properties.items() if k != TASK_PROPERTY}


def _queued(request: LocationRequest) -> Image | None:
    """The image, if it is still queued and this request's task is its location import."""
    try:
        image = image_db.get(request.image_id)
    except NotFound:
        return None
    if image.status is not Status.QUEUED or image.properties.get(TASK_PROPERTY) != \
            request.task_id:
        return None
    return image

