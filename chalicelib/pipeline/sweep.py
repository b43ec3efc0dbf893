"""The orphan sweep: objects and open multipart uploads under images/ and staging/, in every
configured store, that no image record owns are removed once they are older than a grace
period. It is the backstop behind every other clean-up (a crash between a write and its S3
call, a store that refused a delete and was then forgotten, a lost event).

Work per run is bounded: each run examines at most `topology.SWEEP_KEYS_PER_RUN` keys (and as
many multipart uploads) per prefix and store, and keeps where it stopped in a small cursor
object, so a big bucket is covered over several runs and then from the start again.

Ownership is read from the image record, and every writer records an object's owner before
it writes the object: a pending upload names its staging key (and the import copies and
variants it makes under images/), a copy records its pending location first. So the
objects of in-flight uploads, imports and copies always have an owner."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import stores, topology
from chalicelib.blobs import keys, manifests, objects
from chalicelib.db import images as image_db
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Image
from chalicelib.domain.stores import LocationStatus, Store

log = logging.getLogger(__name__)
# Where the sweep keeps its place between runs: in the default store's bucket, outside the
# prefixes it sweeps and the one S3 notifies the import queue of.
CURSOR_KEY = keys.SWEEP_CURSOR_KEY
_SWEPT = (keys.IMAGES_PREFIX, keys.STAGING_PREFIX)


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep removed ("store:key" each) and how many keys it examined."""

    objects: tuple[str, ...] = ()
    multipart_uploads: tuple[str, ...] = ()
    examined: int = 0


def sweep(now: float | None = None, limit: int = topology.SWEEP_KEYS_PER_RUN) -> Swept:
    """Examine the next `limit` objects and multipart uploads under each swept prefix of every
    configured store; remove those no record owns that are older than
    `topology.ORPHAN_GRACE_SECONDS`."""
    now = time.time() if now is None else now
    older_than = datetime.fromtimestamp(now, timezone.utc) - timedelta(
        seconds=topology.ORPHAN_GRACE_SECONDS)
    cursor = _read_cursor()
    run = _Run(older_than, limit)
    for store in stores.writable():
        places = cursor.setdefault(store.id, {})
        for prefix in _SWEPT:
            places[prefix] = run.sweep(store, prefix, places.get(prefix, {}))
    objects.put(CURSOR_KEY, json.dumps(cursor).encode())
    if run.removed or run.aborted:
        log.warning("orphan sweep removed data no record owns",
                    extra={"objects": run.removed, "multipart_uploads": run.aborted})
    return Swept(tuple(run.removed), tuple(run.aborted), run.examined)


class _Owners:
    """Which record owns a key: one read per image per run."""

    def __init__(self) -> None:
        self._images: dict[str, Image | None] = {}

    def own(self, store: Store, key: str) -> bool:
        """True unless no live record owns the key (one under a swept prefix)."""
        manifest_of = manifests.image_of(key)
        if manifest_of is not None:  # a block manifest lives as long as its image
            return self._image(manifest_of) is not None
        image_id = key.split("/")[1] if key.count("/") >= 2 else ""
        image = self._image(image_id) if image_id else None
        if image is None:
            return False
        upload = image.upload
        if key.startswith(keys.STAGING_PREFIX):
            # Its object, or a multipart upload into it (the client's, or web-download's).
            return upload is not None and upload.key == key
        location_id = key.rsplit("/", 1)[-1]
        if upload is not None and location_id.split("-")[0] == upload.id:
            return True  # the import of the pending upload is copying or converting it
        return any(loc.key == key and loc.store == store.id
                   and loc.status != LocationStatus.DELETED for loc in image.locations)

    def _image(self, image_id: str) -> Image | None:
        if image_id not in self._images:
            try:
                self._images[image_id] = image_db.get(image_id)
            except NotFound:
                self._images[image_id] = None
        return self._images[image_id]


@dataclass
class _Run:
    """One sweep: what it removed so far, and the records it read."""

    older_than: datetime
    limit: int
    removed: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    examined: int = 0
    owners: _Owners = field(default_factory=_Owners)

    def sweep(self, store: Store, prefix: str, place: dict[str, Any]) -> dict[str, Any]:
        """Sweep the next page of one prefix in one store from `place`; returns the next
        place (at the end of a listing, the next run starts it over)."""
        listed = stores.list_objects(store, prefix, place.get("objects", ""), self.limit)
        for obj in listed.items:
            self.examined += 1
            if obj["LastModified"] < self.older_than and not self.owners.own(store, obj["Key"]):
                stores.remove_object(store, obj["Key"])
                self.removed.append(f"{store.id}:{obj['Key']}")
        uploads = stores.list_multipart_uploads(store, prefix,
                                                tuple(place.get("uploads", ("", ""))), self.limit)
        for upload in uploads.items:
            key, upload_id = upload["Key"], upload["UploadId"]
            if upload["Initiated"] < self.older_than and not self.owners.own(store, key):
                stores.abort_multipart_upload(store, key, upload_id)
                self.aborted.append(f"{store.id}:{key}")
        return {"objects": listed.resume_after[0] if listed.resume_after else "",
                "uploads": list(uploads.resume_after or ("", ""))}


def _read_cursor() -> dict[str, Any]:
    try:
        raw = b"".join(objects.iter_chunks(CURSOR_KEY))
    except NotFound:
        return {}
    try:
        cursor = json.loads(raw)
    except ValueError:
        log.warning("sweep cursor unreadable; starting over")
        return {}
    return cursor if isinstance(cursor, dict) else {}
