"""Image repository: the queries the services need, in domain terms.

Read costs (DynamoDB items read):
- get: 1.
- newest_first (every image list; never a scan): one query per source index (owner,
  visibility, all-images for admins; shares add a members-GSI query plus a batch get of
  the shared images), read lazily page by page and merged newest first. A page in the
  default order costs the images examined until it is full: limit + 1 per source when no
  filter rejects any, more when filters are selective. Another sort order reads every
  image of its sources (sorting needs them all). A marker costs 1 more read (a get).
- in_flight: only uploading/importing/pending_delete images (a sparse GSI): for the reaper
  and the scrubber.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from dataclasses import replace
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.domain.errors import Conflict, NotFound, StaleWrite
from chalicelib.domain.image import ImportClaim, Image, Location, PendingUpload, Status
from chalicelib.domain.listing import Source
from chalicelib.domain.stores import LocationStatus
from chalicelib.db import members as member_db
from chalicelib.db.models import (ClaimMap, ImageModel, LocationMap, UploadMap, bound,
                                    image_order_key)
from chalicelib.db.along import Along, commit
from chalicelib.db.writes import conditional

# Statuses that put an image in the sparse in-flight index (the reaper's and scrubber's).
_IN_FLIGHT = (Status.UPLOADING, Status.IMPORTING, Status.PENDING_DELETE)
# The in-flight index's partition for live images with `pending_delete` locations left (a
# store delete the scrubber finishes); tombstones with data left are in the `deleted` one.
_DOOMED_LOCATIONS = "locations_pending_delete"
# The one partition of the all-images index.
_ALL = "live"
# Visibilities that put an image in the sparse visibility index.
_LISTED_VISIBILITIES = ("public", "community")


def get(image_id: str) -> Image:
    """Read one image.

    Raises:
        NotFound: no such image, or it was deleted.
    """
    try:
        item = bound(ImageModel).get(image_id, consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(f"No image found with ID {image_id}") from exc
    if item.status == Status.DELETED:
        raise NotFound(f"No image found with ID {image_id}")
    return to_domain(item)


def create(image: Image, along: Along = Along()) -> Image:
    """Store a new image, with what goes `along` in the same transaction.

    Raises:
        Conflict: an image (live or deleted) already has this id.
        QuotaExceeded: `along` charges beyond the owner's limits (nothing was stored).
    """
    item = _to_item(image)
    _put(item, along, Conflict(f"Image with identifier {image.id} already exists!"),
         ImageModel.id.does_not_exist())
    return replace(image, version=item.version)


def save(image: Image, along: Along = Along()) -> Image:
    """Write the image if nobody changed it since it was read, with what goes `along` in the
    same transaction; return it with its new version.

    Raises:
        StaleWrite: the stored version is not the one this image was read at.
        QuotaExceeded: `along` charges beyond the owner's limits (nothing was written).
    """
    item = _to_item(image)  # pynamodb conditions the save on the version read
    _put(item, along, StaleWrite(f"Image {image.id} was changed by another request; "
                                 "retry with its current state."))
    return replace(image, version=item.version)


def _put(item: ImageModel, along: Along, error: Exception,
         condition: Condition | None = None) -> None:
    if not along:
        conditional(lambda: item.save(condition=condition), error)
    else:
        commit(lambda writes: writes.save(item, condition=condition), True, along, error)


def update(image_id: str, change: Callable[[Image], Image], attempts: int = 5,
           along: Callable[[Image], Along] | None = None) -> Image:
    """Read the image, apply `change` and save it (with `along(image read)` in the same
    transaction), re-reading after each lost race (for changes that stay right whatever else
    changed meanwhile); returns the saved image.

    Raises:
        NotFound: no such image, or it was deleted.
        StaleWrite: it changed underneath every attempt.
    """
    def attempt() -> Image:
        current = get(image_id)
        return save(change(current), along(current) if along else Along())

    for _ in range(attempts - 1):
        try:
            return attempt()
        except StaleWrite:
            continue
    return attempt()


def save_tombstone(image: Image, keep_seconds: int, along: Along = Along()) -> Image:
    """Record the image as deleted: out of every list, its id never reused. While a location
    is `pending_delete` the tombstone stays in the in-flight index (the scrubber's work) and
    never expires; with none left it goes after `keep_seconds`. What goes `along` (the
    release of its quota, its event) is written in the same transaction. Returns it with
    its version.

    Raises:
        StaleWrite: the image changed since it was read.
    """
    item = _to_item(image)
    item.list_owner = item.list_visibility = item.list_all = None
    data_left = any(loc.status == LocationStatus.PENDING_DELETE for loc in image.locations)
    item.in_flight = str(Status.DELETED) if data_left else None
    item.expires_at = None if data_left else _utc_after(keep_seconds)
    _put(item, along, StaleWrite(f"Image {image.id} was changed by another request."))
    return replace(image, version=item.version)


def newest_first(sources: Iterable[Source], before: Image | None = None,
                 page_size: int = 100) -> Iterator[Image]:
    """Every image in the sources, newest first and each once, strictly older than `before`.

    Lazy: the caller stops reading when its page is full, so a page costs reads in
    proportion to the images examined, `page_size` per index request.
    """
    before_key = _sort_key(before) if before else None
    streams = [_stream(source, before_key, page_size) for source in sources]
    seen: set[str] = set()
    for item in heapq.merge(*streams, key=lambda item: item.sort_key, reverse=True):
        if item.id not in seen:  # e.g. a project's own public image is in two indexes
            seen.add(item.id)
            yield to_domain(item)


def _stream(source: Source, before_key: str | None, page_size: int) -> Iterator[Any]:
    model = bound(ImageModel)
    if source.kind == "shared":
        return _shared_with(source.key, source.member_status, before_key, page_size)
    index, key = {"owner": (model.by_owner, source.key),
                  "visibility": (model.by_visibility, source.key),
                  "all": (model.every, _ALL)}[source.kind]
    condition = ImageModel.sort_key < before_key if before_key else None
    return index.query(key, range_key_condition=condition, scan_index_forward=False,
                       page_size=page_size)


def _shared_with(project_id: str, status: str, before_key: str | None,
                 page_size: int) -> Iterator[Any]:
    # Shares in one member status, newest first. A share outlives a visibility change or a
    # delete, so such images drop out here; reading on until a page is full keeps it exact.
    ids = member_db.shared_image_ids(project_id, status, before_key, page_size)
    while chunk := list(itertools.islice(ids, page_size)):
        found = {item.id: item for item in
                 bound(ImageModel).batch_get(chunk, consistent_read=True)}
        for image_id in chunk:
            item = found.get(image_id)
            if item and item.visibility == "shared" and item.status != Status.DELETED:
                yield item


def in_flight(status: Status, changed_before: str) -> Iterator[Image]:
    """Images in `status` (uploading, importing, pending_delete, or deleted with data left
    to remove) not changed since `changed_before`.

    Reads only in-flight images (a sparse index), oldest first.
    """
    index = bound(ImageModel).in_flight_index
    for item in index.query(str(status), range_key_condition=ImageModel.updated_at < changed_before):
        yield to_domain(item)


def with_doomed_locations() -> Iterator[Image]:
    """Live images (active, deactivated, ...) with `pending_delete` locations left, oldest
    change first: a sparse partition of the in-flight index, for the scrubber."""
    for item in bound(ImageModel).in_flight_index.query(_DOOMED_LOCATIONS):
        yield to_domain(item)


def _sort_key(image: Image) -> str:
    return image_order_key(image.created_at, image.id)


def _utc_after(seconds: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def location_maps(locations: Iterable[Location]) -> list[LocationMap]:
    """Locations as stored."""
    return [LocationMap(id=loc.id, store=loc.store, key=loc.key, status=loc.status,
                        disk_format=loc.disk_format, checksum=loc.checksum,
                        os_hash_value=loc.os_hash_value, size=loc.size) for loc in locations]


def upload_map(upload: PendingUpload) -> UploadMap:
    """A pending upload as stored."""
    return UploadMap(id=upload.id, key=upload.key, size=upload.size, sha256=upload.sha256,
                     multipart_id=upload.multipart_id, part_size=upload.part_size,
                     expires_at=upload.expires_at, awaiting_import=upload.awaiting_import,
                     task_id=upload.task_id, reserved_bytes=upload.reserved_bytes)


def claim_map(claim: ImportClaim) -> ClaimMap:
    """An import claim as stored."""
    return ClaimMap(key=claim.key, lease_until=claim.lease_until, token=claim.token)


def in_flight_partition(status: Status) -> str | None:
    """The in-flight index's partition for an image in `status` (None: not in the index)."""
    return str(status) if status in _IN_FLIGHT else None


def _to_item(image: Image) -> ImageModel:
    model = bound(ImageModel)
    upload = image.upload
    # A new image has no version yet: pynamodb then writes 1 on condition it is absent.
    version = {} if image.version is None else {"version": image.version}
    return model(
        image.id, owner=image.owner, status=str(image.status), name=image.name,
        visibility=image.visibility, protected=image.protected, os_hidden=image.os_hidden,
        checksum=image.checksum, os_hash_algo=image.os_hash_algo,
        os_hash_value=image.os_hash_value, size=image.size, virtual_size=image.virtual_size,
        disk_format=image.disk_format, container_format=image.container_format,
        min_disk=image.min_disk, min_ram=image.min_ram, tags=set(image.tags) or None,
        properties=dict(image.properties) or None,
        locations=location_maps(image.locations) or None,
        upload=upload_map(upload) if upload else None,
        claim=claim_map(image.claim) if image.claim else None,
        import_error=image.import_error, created_at=image.created_at,
        updated_at=image.updated_at, sort_key=_sort_key(image), list_owner=image.owner,
        list_visibility=image.visibility if image.visibility in _LISTED_VISIBILITIES else None,
        in_flight=in_flight_partition(image.status) or (
            _DOOMED_LOCATIONS if any(loc.status == LocationStatus.PENDING_DELETE
                                     for loc in image.locations) else None),
        list_all=_ALL,
        **version,
    )


def to_domain(item: ImageModel) -> Image:
    """A stored item as the domain's image."""
    upload = item.upload
    return Image(
        id=item.id, owner=item.owner, created_at=item.created_at, updated_at=item.updated_at,
        status=Status(item.status), name=item.name, visibility=item.visibility,
        protected=item.protected, os_hidden=item.os_hidden, checksum=item.checksum,
        os_hash_algo=item.os_hash_algo, os_hash_value=item.os_hash_value,
        size=_int_or_none(item.size), virtual_size=_int_or_none(item.virtual_size),
        disk_format=item.disk_format, container_format=item.container_format,
        min_disk=int(item.min_disk), min_ram=int(item.min_ram),
        tags=tuple(sorted(item.tags or ())),
        properties=item.properties.as_dict() if item.properties else {},
        locations=tuple(Location(id=loc.id, store=loc.store, key=loc.key, status=loc.status,
                                 disk_format=loc.disk_format, checksum=loc.checksum,
                                 os_hash_value=loc.os_hash_value, size=_int_or_none(loc.size))
                        for loc in item.locations or ()),
        upload=PendingUpload(id=upload.id, key=upload.key, size=int(upload.size),
                             sha256=upload.sha256, multipart_id=upload.multipart_id,
                             part_size=_int_or_none(upload.part_size),
                             expires_at=upload.expires_at,
                             awaiting_import=bool(upload.awaiting_import),
                             task_id=upload.task_id,
                             reserved_bytes=_int_or_none(upload.reserved_bytes))
        if upload else None,
        claim=ImportClaim(key=item.claim.key, lease_until=float(item.claim.lease_until),
                          token=item.claim.token or "") if item.claim else None,
        import_error=item.import_error, version=item.version,
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
