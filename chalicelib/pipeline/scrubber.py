"""The scrubber: purges images whose delayed delete has run its course, and retries removing
the data of deleted images, and of store copies deleted from live images, until none is left
(objects no record owns at all are the orphan sweep's, pipeline/sweep.py)."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.domain.errors import StaleWrite
from chalicelib.domain.image import Status, utc_stamp
from chalicelib.lifecycle import deletes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """What one scrubber pass did: images purged, images whose deleted data is now all gone,
    data a store still refused (retried next pass), and stored copies stranded in stores no
    longer configured ("store:key", reported until an operator acts)."""

    purged: tuple[str, ...] = ()
    emptied: tuple[str, ...] = ()
    retrying: tuple[str, ...] = ()
    stranded: tuple[str, ...] = ()


def scrub(now: float | None = None) -> Scrubbed:
    """Finish removing deleted images' data, then purge expired pending_delete images."""
    now = time.time() if now is None else now
    removals: dict[str, deletes.Removal] = {}
    # Deleted images with data left first: a purge below tries its own data at once.
    for tombstone in image_db.in_flight(Status.DELETED, utc_stamp(now)):
        removals[tombstone.id] = deletes.remove_data(tombstone)
    for image in image_db.with_doomed_locations():  # store deletes a store refused
        removals[image.id] = deletes.drop_doomed_locations(image)
    purged = []
    cutoff = utc_stamp(now - get_settings().scrub_delay_seconds)
    for image in image_db.in_flight(Status.PENDING_DELETE, cutoff):
        try:
            removals[image.id] = deletes.delete_for_good(image, events.IMAGE_PURGE)
        except StaleWrite:  # restored (or purged by another pass) meanwhile
            continue
        purged.append(image.id)
    result = Scrubbed(
        purged=tuple(purged),
        emptied=tuple(i for i, r in removals.items() if r.done),
        retrying=tuple(i for i, r in removals.items() if r.failed),
        stranded=tuple(f"{loc.store}:{loc.key}" for r in removals.values() for loc in r.stranded))
    if purged or removals:
        log.info("scrubber removed data", extra={
            "purged": len(purged), "emptied": len(result.emptied),
            "retrying": len(result.retrying), "stranded": len(result.stranded)})
    return result
