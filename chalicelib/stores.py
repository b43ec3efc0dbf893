"""The configured stores, resolved: store id -> bucket and S3 client, and the S3 operations on
one stored copy (a Location) wherever its store keeps it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.blobs import multipart, objects, presign
from chalicelib.config import get_settings
from chalicelib.domain.errors import Conflict, StoreFailed
from chalicelib.domain.image import Location
from chalicelib.domain.stores import Store


def configured() -> tuple[Store, ...]:
    """Every store of this deployment, in configuration order."""
    return get_settings().stores


def writable() -> tuple[Store, ...]:
    """The stores that are buckets (the read-only http stores left out)."""
    return tuple(s for s in configured() if not s.read_only)


def multiple() -> bool:
    """True when several stores are configured (Glance's `enabled_backends`); with one store
    Glint answers as single-store Glance: no `/v2/info/stores`, no copy-image."""
    return len(configured()) > 1


def get(store_id: str) -> Store:
    """The store with this id.

    Raises:
        Conflict: no such store is configured (Glance answers 409 for unknown stores).
    """
    for store in configured():
        if store.id == store_id:
            return store
    raise Conflict(f"The selected store {store_id} is not available on this node.")


def get_writable(store_id: str) -> Store:
    """The bucket store with this id.

    Raises:
        Conflict: no such store, or it is a read-only http store.
    """
    store = get(store_id)
    if store.read_only:
        raise Conflict(f"Store '{store_id}' is a read-only http store; image data cannot be "
                       "written to it.")
    return store


def client_for(store: Store) -> Any:
    """The S3 client for the store's region."""
    return aws.s3(store.region) if store.region else aws.s3()


def presign_get(location: Location, expires: int) -> str:
    """A presigned GET of one stored copy (an http store's copy: its own URL)."""
    store = get(location.store)
    if store.read_only:
        return location.key
    return presign.presign_get(location.key, expires, client=client_for(store),
                               bucket=store.bucket)


def copy(source: Location, target: Store, target_key: str) -> None:
    """Server-side copy of one stored copy into another store (UploadPartCopy when large).

    Raises:
        StoreFailed: either store refused or could not be reached.
    """
    store = get(source.store)
    if store.read_only:
        raise StoreFailed(f"Copy from store {store.id} failed: a read-only http store's data is "
                          "not copied.")
    with _failing_as(f"Copy from store {store.id} to store {target.id} failed"):
        objects.copy(source.key, target_key, client=client_for(target), bucket=store.bucket,
                     target_bucket=target.bucket, source_client=client_for(store))


def delete(location: Location) -> None:
    """Delete one stored copy's object (absent is fine); an http store's copy is only
    referenced, so there is nothing to delete.

    Raises:
        StoreFailed: the store refused or could not be reached.
    """
    store = get(location.store)
    if store.read_only:
        return
    with _failing_as(f"Delete from store {store.id} failed"):
        objects.delete(location.key, client=client_for(store), bucket=store.bucket)


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    # botocore already retried what was transient; what is left is the store's answer.
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise StoreFailed(f"{what}: {error.get('Code')} {error.get('Message', '')}".strip()) \
            from exc
    except BotoCoreError as exc:
        raise StoreFailed(f"{what}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Listed:
    """One page of a store's objects (or open multipart uploads), and where the next starts
    (None: the listing reached the end of the bucket)."""

    items: tuple[dict[str, Any], ...]
    resume_after: tuple[str, str] | None


def list_objects(store: Store, prefix: str, after: str, limit: int) -> Listed:
    """Up to `limit` objects under `prefix` in the store's bucket, in key order, after the
    key `after`."""
    page = client_for(store).list_objects_v2(Bucket=store.bucket, Prefix=prefix,
                                             StartAfter=after, MaxKeys=limit)
    found = tuple(page.get("Contents", []))
    more = page.get("IsTruncated") and found
    return Listed(found, (found[-1]["Key"], "") if more else None)


def list_multipart_uploads(store: Store, prefix: str, after: tuple[str, str],
                           limit: int) -> Listed:
    """Up to `limit` multipart uploads open under `prefix` in the store's bucket, after
    (key, upload id)."""
    markers = {"KeyMarker": after[0], "UploadIdMarker": after[1]} if after[0] else {}
    page = client_for(store).list_multipart_uploads(Bucket=store.bucket, Prefix=prefix,
                                                    MaxUploads=limit, **markers)
    more = page.get("IsTruncated")
    return Listed(tuple(page.get("Uploads", [])),
                  (page.get("NextKeyMarker", ""), page.get("NextUploadIdMarker", ""))
                  if more else None)


def remove_object(store: Store, key: str) -> None:
    """Delete one object of the store by key (absent is fine)."""
    objects.delete(key, client=client_for(store), bucket=store.bucket)


def abort_multipart_upload(store: Store, key: str, upload_id: str) -> None:
    """Abandon one multipart upload in the store and free its parts (gone already is fine)."""
    multipart.abort(key, upload_id, client=client_for(store), bucket=store.bucket)
