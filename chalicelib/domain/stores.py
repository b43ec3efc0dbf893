"""Stores (a store is a bucket, or a read-only http store), copy-image targets, and which
copy a download reads. Standard library only."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from chalicelib.domain import usage
from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.image import Image, Location

# Reserved properties through which Glance reports a copy's progress (comma lists).
IMPORTING_PROPERTY = "os_glance_importing_to_stores"
FAILED_PROPERTY = "os_glance_failed_import"
DEFAULT_STORE_ID = "default"


class LocationStatus(StrEnum):
    """The life of one stored copy: written, readable, being removed, removed."""

    PENDING = "pending"
    ACTIVE = "active"
    PENDING_DELETE = "pending_delete"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Store:
    """One configured store: a bucket, optionally in another region; or (with `url`, no
    bucket) a read-only http store, Glance's `http` store: its locations are URLs under `url`,
    added by the location API, never written or deleted by Glint."""

    id: str
    bucket: str
    description: str
    default: bool = False
    # Higher is read first when a download does not say which store it prefers.
    weight: int = 0
    region: str | None = None
    url: str | None = None

    @property
    def read_only(self) -> bool:
        """True for an http store: nothing is copied into it or deleted from it."""
        return self.url is not None


@dataclass(frozen=True, slots=True)
class StoreSelection:
    """The stores part of an import body (Glance's `stores`/`all_stores`)."""

    stores: tuple[str, ...] = ()
    all_stores: bool = False
    all_stores_must_succeed: bool = True


def parse_stores(raw: str | None, image_bucket: str) -> tuple[Store, ...]:
    """The stores from GLINT_STORES (a JSON list); without it, one default store, the image
    bucket. The default store must be the image bucket: uploads are staged and verified there.

    Raises:
        ValueError: the configuration is malformed (the deployment must not start).
    """
    if not raw:
        return (Store(DEFAULT_STORE_ID, image_bucket,
                      "Image data in this deployment's S3 bucket.", default=True),)
    entries = json.loads(raw)
    if not isinstance(entries, list) or not entries:
        raise ValueError("GLINT_STORES must be a non-empty JSON list of stores.")
    stores = tuple(_store(entry, image_bucket) for entry in entries)
    ids = [s.id for s in stores]
    if len(set(ids)) != len(ids):
        raise ValueError(f"GLINT_STORES names a store twice: {ids}.")
    defaults = [s for s in stores if s.default]
    if len(defaults) != 1:
        raise ValueError("GLINT_STORES must mark exactly one store \"default\": true.")
    if defaults[0].bucket != image_bucket:
        raise ValueError(f"The default store's bucket must be the image bucket {image_bucket}.")
    return stores


def _store(entry: Any, image_bucket: str) -> Store:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
        raise ValueError(f"Each store in GLINT_STORES needs an \"id\": {entry!r}.")
    if "url" in entry:
        return _http_store(entry)
    default = entry.get("default", False) is True
    bucket = entry.get("bucket") or (image_bucket if default else None)
    if not isinstance(bucket, str):
        raise ValueError(f"Store {entry['id']} needs a \"bucket\".")
    weight = entry.get("weight", 0)
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise ValueError(f"Store {entry['id']}: \"weight\" must be an integer.")
    return Store(id=entry["id"], bucket=bucket, default=default, weight=weight,
                 description=entry.get("description") or f"Image store {entry['id']}.",
                 region=entry.get("region") or None)


def _http_store(entry: dict[str, Any]) -> Store:
    url = entry["url"]
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) \
            or not url.endswith("/"):
        raise ValueError(f"Store {entry['id']}: \"url\" must be an http(s) URL ending in /.")
    if entry.get("default") or entry.get("bucket"):
        raise ValueError(f"Store {entry['id']} is an http store: read-only, no bucket, not "
                         "the default.")
    return Store(id=entry["id"], bucket="", url=url, weight=entry.get("weight", 0),
                 description=entry.get("description") or f"Read-only http store {entry['id']}.")


def store_for_url(url: str, configured: Sequence[Store]) -> Store | None:
    """The http store whose URL prefixes `url` (None: no configured store holds it)."""
    return next((s for s in configured if s.url and url.startswith(s.url)), None)


def parse_selection(body: Mapping[str, Any]) -> StoreSelection:
    """Glance's checks on `stores`, `all_stores` and `all_stores_must_succeed`.

    Raises:
        Invalid: a value of the wrong type, or both `stores` and `all_stores`.
    """
    must_succeed = body.get("all_stores_must_succeed", True)
    if not isinstance(must_succeed, bool):
        raise Invalid("'all_stores_must_succeed' must be boolean value only")
    all_stores = body.get("all_stores", False)
    if not isinstance(all_stores, bool):
        raise Invalid("'all_stores' must be boolean value only")
    stores = body.get("stores", [])
    if not isinstance(stores, list) or not all(isinstance(s, str) and s for s in stores):
        raise Invalid("'stores' must be a list of store identifiers.")
    if all_stores and stores:
        raise Invalid("All_stores parameter can't be used with stores parameter.")
    return StoreSelection(tuple(dict.fromkeys(stores)), all_stores, must_succeed)


def copy_targets(image: Image, selection: StoreSelection,
                 configured: Sequence[Store]) -> tuple[str, ...]:
    """The stores a copy-image request copies to, in request (or configuration) order; empty
    when `all_stores` finds the image everywhere already.

    Raises:
        Conflict: an unknown store, or a store that a copy is still filling.
        Invalid: a store named explicitly already holds the image (Glance answers 400).
    """
    known = {s.id: s for s in configured}
    default = next(s.id for s in configured if s.default)
    # As in Glance, `all_stores` leaves out the read-only (http) stores.
    wanted = ([s.id for s in configured if not s.read_only] if selection.all_stores
              else list(selection.stores) or [default])
    for store_id in wanted:
        if store_id not in known:
            raise Conflict(f"Store '{store_id}' is not configured here; stores: "
                           f"{', '.join(s.id for s in configured)}.")
        if known[store_id].read_only:
            raise Conflict(f"Store '{store_id}' is a read-only http store; image data cannot "
                           "be written to it.")
    busy = set(progress(image, IMPORTING_PROPERTY)).intersection(wanted)
    if busy:
        raise Conflict(f"New operation on image '{image.id}' is not permitted as prior "
                       f"operation is still in progress (copying to {','.join(sorted(busy))}).")
    holding = set(stores_of(image, LocationStatus.PENDING, LocationStatus.ACTIVE))
    if selection.all_stores:
        return tuple(s for s in wanted if s not in holding)
    present = [s for s in wanted if s in holding]
    if present:
        raise Invalid(f"Image is already present at store '{present[0]}'")
    return tuple(wanted)


def stores_of(image: Image, *statuses: str) -> tuple[str, ...]:
    """The stores holding the image's data (active locations unless statuses are given), each
    once, in location order."""
    wanted = statuses or (LocationStatus.ACTIVE,)
    return tuple(dict.fromkeys(loc.store for loc in image.locations if loc.status in wanted))


def progress(image: Image, name: str) -> tuple[str, ...]:
    """The store ids in one of the comma-list progress properties."""
    return tuple(s for s in image.properties.get(name, "").split(",") if s)


def with_progress(image: Image, *, importing: Iterable[str] = (), done: Iterable[str] = (),
                  failed: Iterable[str] = (), retried: Iterable[str] = ()) -> Image:
    """The image with stores added to or removed from the progress properties: `importing`
    start, `done` and `failed` leave the importing list, `failed` and `retried` change the
    failed list (Glance's merge_store_list, sorted as Glance sorts them)."""
    now_importing = (set(progress(image, IMPORTING_PROPERTY)) | set(importing)) - set(done) \
        - set(failed)
    now_failed = (set(progress(image, FAILED_PROPERTY)) - set(retried)) | set(failed)
    properties = {**image.properties, IMPORTING_PROPERTY: ",".join(sorted(now_importing)),
                  FAILED_PROPERTY: ",".join(sorted(now_failed))}
    return replace(image, properties=properties)


def with_locations(image: Image, store_id: str, status: str | None) -> Image:
    """The image with every location in `store_id` set to `status` (None: dropped)."""
    kept = tuple(loc if loc.store != store_id else replace(loc, status=status)
                 for loc in image.locations if loc.store != store_id or status is not None)
    return replace(image, locations=kept)


def stored_cost(image: Image, locations: Iterable[Location]) -> usage.Deltas:
    """What some of the image's locations count against image_size_total: every location
    on the record is charged, as in Glance, from when it is recorded until it is dropped."""
    return {usage.IMAGE_SIZE_TOTAL: usage.stored_bytes(replace(image,
                                                               locations=tuple(locations)))}


def download_order(locations: Iterable[Location], configured: Sequence[Store],
                   prefer: Sequence[str] = ()) -> list[Location]:
    """Locations in the order a download tries them: the stores in `prefer` first, in that
    order (unknown ids are ignored), then by the operator's weight, highest first; ties keep
    the configuration order."""
    rank = {s.id: (1, -s.weight, i) for i, s in enumerate(configured)}
    rank.update({store_id: (0, i, 0) for i, store_id in enumerate(prefer) if store_id in rank})
    return sorted(locations, key=lambda loc: rank.get(loc.store, (2, 0, 0)))
