"""Deleting an image's data through location status: the write that tombstones (or
delay-deletes) an image marks every location `pending_delete` in the same item, and the
data is removed after it, now and by the scrubber until none is left. A delete the client
saw succeed is therefore never followed by a leak, whatever a store answers."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import events, metrics, stores
from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import members as member_db
from chalicelib.db.along import Along
from chalicelib.domain import usage
from chalicelib.domain.errors import NotFound, StaleWrite, StoreFailed
from chalicelib.domain.image import Image, Location, Status, transition, utcnow
from chalicelib.domain.stores import LocationStatus, stored_cost

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Removal:
    """What one pass over a tombstone's data left: locations whose store failed (retried on
    the next pass) and locations in stores no longer configured (reported, kept)."""

    failed: tuple[Location, ...] = ()
    stranded: tuple[Location, ...] = ()

    @property
    def done(self) -> bool:
        """True when no data of the image is left in any store."""
        return not (self.failed or self.stranded)


def with_locations_doomed(image: Image) -> Image:
    """The image with every location still holding data marked `pending_delete`."""
    return _relabel(image, (LocationStatus.PENDING, LocationStatus.ACTIVE),
                    LocationStatus.PENDING_DELETE)


def with_locations_restored(image: Image) -> Image:
    """The image with its `pending_delete` locations readable again (an admin's restore)."""
    return _relabel(image, (LocationStatus.PENDING_DELETE,), LocationStatus.ACTIVE)


def delete_for_good(image: Image, event: str) -> Removal:
    """Tombstone the image in one transaction that marks every location `pending_delete`,
    gives back what it held against the owner's quotas and records `event`; publish it, drop
    the members, then remove the data at once (what a store refuses now, the scrubber
    retries).

    Raises:
        StaleWrite: the image changed since it was read (nothing was written).
    """
    deleted = with_locations_doomed(transition(image, Status.DELETED, utcnow()))
    published = events.image_entry(event, deleted)
    # The tombstone goes first: a worker racing this delete then fails its conditional write.
    # The quota give-back and the event (outbox) are in the same transaction.
    deleted = image_db.save_tombstone(deleted, get_settings().deleted_image_ttl_seconds,
                                      Along(image.owner, usage.deletion(image),
                                            events=(published,)))
    events.flush([published])
    member_db.remove_all(image.id)
    return remove_data(deleted)


def remove_data(tombstone: Image) -> Removal:
    """Delete the bytes of a tombstone's `pending_delete` locations and its staging area,
    then record what is left; once nothing is, the tombstone leaves the scrubber's index
    and expires. Staging the store refused is left to the orphan sweep."""
    removal = _delete_objects(tombstone)
    _empty_staging(tombstone.id)
    left = removal.failed + removal.stranded
    if left != tombstone.locations:
        try:
            image_db.save_tombstone(replace(tombstone, locations=left),
                                    get_settings().deleted_image_ttl_seconds)
        except StaleWrite:  # another pass recorded its own progress; the next one resumes
            log.info("tombstone changed meanwhile", extra={"image_id": tombstone.id})
    return removal


def drop_doomed_locations(image: Image) -> Removal:
    """Delete the bytes of a live image's `pending_delete` locations (a store delete), then
    drop those that are gone from the record, giving back what they held against the
    owner's quotas in the same transaction. What a store refuses stays `pending_delete`, in
    the scrubber's index, for its next pass."""
    removal = _delete_objects(image)
    kept = {loc.id for loc in removal.failed + removal.stranded}
    gone = {loc.id for loc in image.locations
            if loc.status == LocationStatus.PENDING_DELETE and loc.id not in kept}
    if gone:
        try:
            image_db.update(image.id, lambda i: replace(i, updated_at=utcnow(), locations=tuple(
                loc for loc in i.locations if loc.id not in gone)), along=lambda i: Along(
                i.owner, usage.negate(stored_cost(i, (loc for loc in i.locations
                                                       if loc.id in gone)))))
        except NotFound:  # deleted meanwhile: its tombstone has the rest
            log.info("image deleted while its store copies were", extra={"image_id": image.id})
    return removal


def _delete_objects(image: Image) -> Removal:
    """Delete the objects of the image's `pending_delete` locations; report what is left."""
    configured = {store.id for store in stores.configured()}
    failed: list[Location] = []
    stranded: list[Location] = []
    for location in image.locations:
        if location.status != LocationStatus.PENDING_DELETE:
            continue
        if location.store not in configured:
            stranded.append(location)
            continue
        try:
            stores.delete(location)
        except StoreFailed as exc:
            log.warning("image data not deleted yet; the scrubber retries",
                        extra={"image_id": image.id, "store": location.store,
                               "reason": exc.message})
            failed.append(location)
    _report_stranded(image.id, tuple(stranded))
    return Removal(tuple(failed), tuple(stranded))


def _empty_staging(image_id: str) -> None:
    try:
        objects.delete_prefix(keys.staging_prefix(image_id))
    except (ClientError, BotoCoreError) as exc:
        log.warning("staging of a deleted image not emptied; the orphan sweep will",
                    extra={"image_id": image_id, "reason": str(exc)})


def _report_stranded(image_id: str, stranded: tuple[Location, ...]) -> None:
    # A store taken out of the configuration still holds these bytes: an operator must put
    # the store back (the scrubber then finishes) or empty it by hand.
    for location in stranded:
        log.error("image data stranded in a store that is no longer configured",
                  extra={"image_id": image_id, "store": location.store, "key": location.key})
        metrics.data_stranded(location.store)


def _relabel(image: Image, from_statuses: tuple[str, ...], to: str) -> Image:
    return replace(image, locations=tuple(
        replace(loc, status=to) if loc.status in from_statuses else loc
        for loc in image.locations))
