"""Reading, copying and deleting objects in the image bucket (or, where a `bucket` is given,
in another store's bucket)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.blobs.presign import IMAGE_CONTENT_TYPE
from chalicelib.config import get_settings
from chalicelib.domain.uploads import MIB
from chalicelib.domain.errors import NotFound

CHUNK_SIZE = MIB
# Above this, copies go part by part (UploadPartCopy); CopyObject stops at 5 GiB.
_COPY_CONFIG = TransferConfig(multipart_threshold=256 * MIB, multipart_chunksize=256 * MIB)
_UPLOAD_CONFIG = TransferConfig(multipart_threshold=64 * MIB, multipart_chunksize=64 * MIB)
# What S3 answers when an If-Match (or CopySourceIfMatch) no longer holds.
_PRECONDITION_FAILED = frozenset({"PreconditionFailed", "412"})


class Changed(Exception):
    """The object is no longer the version that was read (it was overwritten meanwhile)."""


def etag_of(key: str, client: Any = None) -> str:
    """The object's current ETag, to pin every later read and copy of it to this version.

    Raises:
        NotFound: there is no object at `key`.
    """
    try:
        return (client or aws.s3()).head_object(Bucket=get_settings().bucket, Key=key)["ETag"]
    except ClientError as exc:
        if _code(exc) in {"NoSuchKey", "404", "NotFound"}:
            raise NotFound(f"No object at {key}") from exc
        raise


def iter_chunks(key: str, chunk_size: int = CHUNK_SIZE, client: Any = None,
                if_match: str | None = None) -> Iterator[bytes]:
    """Stream an object's bytes in chunks; memory stays at one chunk. With `if_match`, only
    the version with that ETag is read.

    Raises:
        NotFound: there is no object at `key`.
        Changed: the object's ETag is no longer `if_match`.
    """
    pinned = {"IfMatch": if_match} if if_match else {}
    try:
        body = (client or aws.s3()).get_object(Bucket=get_settings().bucket, Key=key,
                                               **pinned)["Body"]
    except ClientError as exc:
        if _code(exc) in {"NoSuchKey", "404"}:
            raise NotFound(f"No object at {key}") from exc
        if _code(exc) in _PRECONDITION_FAILED:
            raise Changed(f"The object at {key} changed while it was read.") from exc
        raise
    with body:
        yield from body.iter_chunks(chunk_size)


def copy(source_key: str, target_key: str, client: Any = None, bucket: str | None = None,
         target_bucket: str | None = None, source_client: Any = None,
         if_match: str | None = None) -> None:
    """Server-side copy (multipart for large objects) within `bucket` or into `target_bucket`;
    `client` is the target's, `source_client` the source's when it is in another region.
    With `if_match`, only the source version with that ETag is copied.

    Raises:
        Changed: the source's ETag is no longer `if_match`.
    """
    source = bucket or get_settings().bucket
    target = client or aws.s3()
    pinned = {"CopySourceIfMatch": if_match} if if_match else None
    try:
        target.copy({"Bucket": source, "Key": source_key}, target_bucket or source,
                     target_key, ExtraArgs=pinned, SourceClient=source_client,
                     Config=_COPY_CONFIG)
        if if_match:
            # Still that version after the copy, so the copy read it: an emulator that
            # ignores CopySourceIfMatch is caught too (same bytes put again are harmless).
            (source_client or target).head_object(Bucket=source, Key=source_key,
                                                  IfMatch=if_match)
    except ClientError as exc:
        if if_match and _code(exc) in _PRECONDITION_FAILED:
            target.delete_object(Bucket=target_bucket or source, Key=target_key)
            raise Changed(f"The object at {source_key} changed while it was copied.") from exc
        raise


def upload_file(path: Path, key: str, on_progress: Callable[[int], None] | None = None,
                client: Any = None) -> None:
    """Upload a local file into the bucket, in parallel multipart parts when it is large;
    `on_progress` is called with each batch of bytes sent."""
    (client or aws.s3()).upload_file(str(path), get_settings().bucket, key,
                                     Config=_UPLOAD_CONFIG, Callback=on_progress)


def delete(key: str, client: Any = None, bucket: str | None = None) -> None:
    """Delete one object (absent is fine)."""
    (client or aws.s3()).delete_object(Bucket=bucket or get_settings().bucket, Key=key)


def delete_prefix(prefix: str, client: Any = None) -> int:
    """Delete every object under `prefix` and abort its multipart uploads; returns the count."""
    s3 = client or aws.s3()
    bucket = get_settings().bucket
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            deleted += len(keys)
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket,
                                                                   Prefix=prefix):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                      UploadId=upload["UploadId"])
    return deleted


def put(key: str, data: bytes, client: Any = None) -> None:
    """Store a small object in one request (S3 emits ObjectCreated for it)."""
    (client or aws.s3()).put_object(Bucket=get_settings().bucket, Key=key, Body=data,
                                    ContentType=IMAGE_CONTENT_TYPE)


def size_of(key: str, client: Any = None) -> int | None:
    """The object's size, or None when there is no object at `key`. A listing, not a HEAD:
    the API's role may list staging but never read image bytes (HEAD needs GetObject)."""
    listed = (client or aws.s3()).list_objects_v2(Bucket=get_settings().bucket, Prefix=key,
                                                  MaxKeys=1)
    found = [obj for obj in listed.get("Contents", []) if obj["Key"] == key]
    return int(found[0]["Size"]) if found else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
