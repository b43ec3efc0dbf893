"""Presigned S3 requests: each names one key and signs the content length (and checksum)."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    """A URL plus the headers the client must send with it (they are signed)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def presign_put(key: str, size: int, sha256_hex: str | None, expires: int,
                client: Any = None) -> PresignedRequest:
    """A single PUT of exactly `size` bytes (with that sha256, when given) to `key`."""
    params: dict[str, Any] = {"Bucket": get_settings().bucket, "Key": key, "ContentLength": size}
    headers = {"Content-Length": str(size)}
    if sha256_hex:
        checksum = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        params["ChecksumSHA256"] = checksum
        headers["x-amz-checksum-sha256"] = checksum
    url = (client or aws.s3()).generate_presigned_url("put_object", Params=params,
                                                      ExpiresIn=expires)
    return PresignedRequest("PUT", url, headers)


def presign_part(key: str, multipart_id: str, part_number: int, size: int, expires: int,
                 client: Any = None) -> PresignedRequest:
    """A PUT of part `part_number`, exactly `size` bytes long."""
    params = {"Bucket": get_settings().bucket, "Key": key, "UploadId": multipart_id,
              "PartNumber": part_number, "ContentLength": size}
    url = (client or aws.s3()).generate_presigned_url("upload_part", Params=params,
                                                      ExpiresIn=expires)
    return PresignedRequest("PUT", url, {"Content-Length": str(size)})


# What image data is served as: python-glanceclient streams only this type (S3's own default,
# binary/octet-stream, makes `glance image-download` fail).
IMAGE_CONTENT_TYPE = "application/octet-stream"


def presign_get(key: str, expires: int, client: Any = None, bucket: str | None = None) -> str:
    """A GET of the object at `key` (S3 honours Range on it), answered as
    application/octet-stream whatever the object was stored with."""
    return (client or aws.s3()).generate_presigned_url(
        "get_object", Params={"Bucket": bucket or get_settings().bucket, "Key": key,
                              "ResponseContentType": IMAGE_CONTENT_TYPE},
        ExpiresIn=expires)
