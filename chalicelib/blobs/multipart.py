"""Multipart uploads in the staging area: open, inspect, complete, abort."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.blobs.presign import IMAGE_CONTENT_TYPE
from chalicelib.config import get_settings
from chalicelib.domain.errors import Invalid


def start(key: str, client: Any = None) -> str:
    """Open a multipart upload at `key`; returns its upload id."""
    response = (client or aws.s3()).create_multipart_upload(Bucket=get_settings().bucket,
                                                            Key=key,
                                                            ContentType=IMAGE_CONTENT_TYPE)
    return response["UploadId"]


def part_sizes(key: str, multipart_id: str, client: Any = None) -> dict[int, int]:
    """Part number -> size of every part uploaded so far.

    Raises:
        Invalid: there is no such multipart upload (completed or aborted).
    """
    s3 = client or aws.s3()
    sizes: dict[int, int] = {}
    try:
        for page in s3.get_paginator("list_parts").paginate(
                Bucket=get_settings().bucket, Key=key, UploadId=multipart_id):
            sizes.update({part["PartNumber"]: part["Size"] for part in page.get("Parts", [])})
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            raise Invalid("The multipart upload no longer exists.") from exc
        raise
    return sizes


def complete(key: str, multipart_id: str, parts: list[tuple[int, str]],
             client: Any = None) -> None:
    """Join the parts (number, etag) into the object; S3 then emits ObjectCreated.

    Raises:
        Invalid: S3 refused the part list (missing, unknown or too-small parts).
    """
    try:
        (client or aws.s3()).complete_multipart_upload(
            Bucket=get_settings().bucket, Key=key, UploadId=multipart_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]})
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload",
                    "MalformedXML"}:
            raise Invalid(f"S3 refused to complete the upload: {code}.") from exc
        raise


def abort(key: str, multipart_id: str, client: Any = None, bucket: str | None = None) -> None:
    """Abandon a multipart upload (in the image bucket unless `bucket` is given) and free its
    parts (already gone is fine)."""
    try:
        (client or aws.s3()).abort_multipart_upload(Bucket=bucket or get_settings().bucket,
                                                    Key=key, UploadId=multipart_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
            raise


def upload_stream(key: str, chunks: Iterable[bytes], part_size: int, client: Any = None) -> int:
    """Upload a stream of unknown length to `key`, holding one part in memory; returns the
    size. The object (and its ObjectCreated event) exists only once `chunks` is exhausted
    without error; on any error the upload is aborted and the error re-raised."""
    s3 = client or aws.s3()
    bucket = get_settings().bucket
    multipart_id = start(key, s3)
    parts: list[tuple[int, str]] = []
    buffer = bytearray()
    size = 0

    def send(body: bytes) -> None:
        number = len(parts) + 1
        response = s3.upload_part(Bucket=bucket, Key=key, UploadId=multipart_id,
                                  PartNumber=number, Body=body)
        parts.append((number, response["ETag"]))

    try:
        for chunk in chunks:
            buffer += chunk
            size += len(chunk)
            while len(buffer) >= part_size:
                send(bytes(buffer[:part_size]))
                del buffer[:part_size]
        if buffer or not parts:  # the last part may be short, or the only one empty
            send(bytes(buffer))
        complete(key, multipart_id, parts, s3)
    except BaseException:  # also GeneratorExit and interrupts: never leave parts behind
        abort(key, multipart_id, s3)
        raise
    return size


def copy_part(key: str, multipart_id: str, number: int, source_key: str,
              byte_range: tuple[int, int], client: Any = None) -> str:
    """Fill part `number` with bytes [start, end) of `source_key`, server-side
    (UploadPartCopy); returns the part's ETag."""
    bucket = get_settings().bucket
    start, end = byte_range
    response = (client or aws.s3()).upload_part_copy(
        Bucket=bucket, Key=key, UploadId=multipart_id, PartNumber=number,
        CopySource={"Bucket": bucket, "Key": source_key},
        CopySourceRange=f"bytes={start}-{end - 1}")
    return response["CopyPartResult"]["ETag"]
