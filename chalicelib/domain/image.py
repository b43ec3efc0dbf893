"""The image entity, its status machine and its wire document. Standard library only."""
from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from chalicelib.domain.errors import InvalidTransition


class Status(StrEnum):
    """Glance's image statuses, with their wire values."""

    QUEUED = "queued"
    SAVING = "saving"
    UPLOADING = "uploading"
    IMPORTING = "importing"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    PENDING_DELETE = "pending_delete"
    KILLED = "killed"
    DELETED = "deleted"


S = Status
# Glance's Image.valid_state_targets. `killed` is kept for the wire but never entered:
# failures go back to `queued` with the reason kept on the image.
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType({
    S.QUEUED: frozenset({S.SAVING, S.UPLOADING, S.IMPORTING, S.ACTIVE, S.DELETED}),
    S.SAVING: frozenset({S.ACTIVE, S.QUEUED, S.DELETED}),
    S.UPLOADING: frozenset({S.IMPORTING, S.QUEUED, S.DELETED}),
    S.IMPORTING: frozenset({S.ACTIVE, S.QUEUED, S.DELETED}),
    S.ACTIVE: frozenset({S.PENDING_DELETE, S.DELETED, S.DEACTIVATED}),
    S.DEACTIVATED: frozenset({S.ACTIVE, S.DELETED}),
    S.PENDING_DELETE: frozenset({S.DELETED, S.ACTIVE}),
    S.KILLED: frozenset({S.DELETED}),
    S.DELETED: frozenset(),
})

# Entering these needs to know what the bytes are meant to be.
_NEEDS_FORMATS = frozenset({S.SAVING, S.IMPORTING})


@dataclass(frozen=True, slots=True)
class Location:
    """One stored copy of the image data; a converted variant names its own format and digests
    (None on the original, which the image's own fields describe)."""

    id: str
    store: str
    key: str
    status: str = "active"
    disk_format: str | None = None
    checksum: str | None = None
    os_hash_value: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class PendingUpload:
    """What a client was allowed to upload: the staging key and what it declared."""

    id: str
    key: str
    size: int
    sha256: str | None = None
    multipart_id: str | None = None
    part_size: int | None = None
    expires_at: str = ""
    # Staged for glance-direct: the worker leaves it alone until `POST .../import` asks.
    awaiting_import: bool = False
    # The import task that reports on this upload (None until an import is asked for).
    task_id: str | None = None
    # Bytes held against the owner's quotas for this upload (domain/usage.upload); None when
    # nothing was reserved. Cleared with the upload, so the hold is given back exactly once.
    reserved_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class ImportClaim:
    """A worker's lease on an import; another worker may take over once it has lapsed. The
    worker's writes are conditioned on `token`, never on the item's version, so that a user's
    edit during the import never breaks it."""

    key: str
    lease_until: float
    token: str = ""


def new_claim(key: str, lease_until: float) -> ImportClaim:
    """A fresh claim on the upload staged at `key`, with a token no other claim has."""
    return ImportClaim(key, lease_until, uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class Image:
    """An image record. Field names are Glance's wire names."""

    id: str
    owner: str
    created_at: str
    updated_at: str
    status: Status = S.QUEUED
    name: str | None = None
    visibility: str = "shared"
    protected: bool = False
    os_hidden: bool = False
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    tags: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    locations: tuple[Location, ...] = ()
    upload: PendingUpload | None = None
    claim: ImportClaim | None = None
    import_error: str | None = None
    version: int | None = None


# Fields a client may set on create or change by PATCH (subject to further rules).
WRITABLE_FIELDS = frozenset({
    "name", "visibility", "protected", "os_hidden", "disk_format", "container_format",
    "min_disk", "min_ram", "tags",
})
# Fields only Glint sets; a client that tries gets 403, as from Glance.
READ_ONLY_FIELDS = frozenset({
    "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
    "owner", "created_at", "updated_at", "self", "file", "schema", "direct_url", "locations",
    "stores",
})
# Where Glint shows why the last upload or import failed (cleared when one starts).
IMPORT_ERROR_PROPERTY = "os_glint_import_error"
RESERVED_PREFIXES = ("os_glance", "os_glint")
RESERVED_NAMES = frozenset({"deleted", "deleted_at", "location"})


_STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_WIRE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> str:
    """The current time, ISO 8601 UTC with microseconds (they keep creation order exact)."""
    return utc_stamp(datetime.now(timezone.utc).timestamp())


def utc_stamp(epoch: float) -> str:
    """Seconds since the epoch in the stored timestamp format (as `utcnow`)."""
    return format_stamp(datetime.fromtimestamp(max(epoch, 0), timezone.utc))


def format_stamp(instant: datetime) -> str:
    """An aware datetime in the stored timestamp format (as `utcnow`)."""
    return instant.astimezone(timezone.utc).strftime(_STAMP_FORMAT)


def parse_stamp(stamp: str) -> datetime:
    """A stored timestamp as an aware UTC datetime."""
    return datetime.strptime(stamp, _STAMP_FORMAT).replace(tzinfo=timezone.utc)


def wire_time(stamp: str) -> str:
    """A stored timestamp in Glance's wire format, to the second."""
    return stamp.split(".")[0].rstrip("Z") + "Z"


def wire_time_after(seconds: int) -> str:
    """Now plus `seconds` in Glance's wire format (when an upload's URLs expire). Read from
    `time.time()`, as the reaper's clock is, so that a test can move both together."""
    return datetime.fromtimestamp(time.time() + seconds, timezone.utc).strftime(_WIRE_FORMAT)


def wire_epoch(stamp: str) -> float:
    """A wire-format timestamp as seconds since the epoch."""
    return datetime.strptime(stamp, _WIRE_FORMAT).replace(tzinfo=timezone.utc).timestamp()


def is_reserved(name: str) -> bool:
    """True for property names no client may set."""
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def transition(image: Image, to: Status, now: str) -> Image:
    """Move the image to `to`, applying Glance's side rules.

    Raises:
        InvalidTransition: the table does not allow it, or formats are missing.
    """
    if to not in TRANSITIONS[image.status]:
        raise InvalidTransition(f"Image status transition from '{image.status}' to '{to}' "
                                "is not allowed.")
    if to in _NEEDS_FORMATS and not (image.disk_format and image.container_format):
        raise InvalidTransition("Properties disk_format, container_format must be set "
                                "prior to saving data.")
    changes: dict[str, Any] = {"status": to, "updated_at": now}
    if to is S.QUEUED:
        changes.update(size=None, virtual_size=None, upload=None, claim=None)
    return replace(image, **changes)


def document(image: Image) -> dict[str, Any]:
    """The image as a client sees it, without links: core fields then user properties."""
    doc: dict[str, Any] = dict(image.properties)
    doc.update(
        id=image.id, name=image.name, status=str(image.status), visibility=image.visibility,
        protected=image.protected, os_hidden=image.os_hidden, checksum=image.checksum,
        os_hash_algo=image.os_hash_algo, os_hash_value=image.os_hash_value, size=image.size,
        virtual_size=image.virtual_size, disk_format=image.disk_format,
        container_format=image.container_format, min_disk=image.min_disk,
        min_ram=image.min_ram, owner=image.owner, tags=sorted(image.tags),
        created_at=wire_time(image.created_at), updated_at=wire_time(image.updated_at),
    )
    if image.import_error:
        doc[IMPORT_ERROR_PROPERTY] = image.import_error
    return doc
