"""The embedded S3 keeps object bodies on disk: GETs (ranged or whole), multipart completion
and UploadPartCopy stream from the spooled files instead of reading whole bodies, and the
bytes S3 clients see are unchanged."""
from __future__ import annotations

import hashlib
import os

from boto3.s3.transfer import TransferConfig
from moto.s3.models import s3_backends

from chalicelib import aws
from chalicelib.config import get_settings

MIB = 1024 * 1024


class _CountingReads:
    """Wraps a key's spooled body and counts the bytes read from it."""

    def __init__(self, body):
        self._body, self.read_bytes = body, 0

    def read(self, size=-1):
        data = self._body.read(size)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self._body, name)


def _stored_key(key: str):
    return s3_backends["123456789012"]["aws"].get_object(get_settings().bucket, key)


def _multipart(key: str, parts: list[bytes]) -> dict:
    s3, bucket = aws.s3(), get_settings().bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key=key, UploadId=upload,
                                                     PartNumber=n, Body=part)["ETag"]}
            for n, part in enumerate(parts, 1)]
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": done})


def test_multipart_completion_joins_the_parts_on_disk(server_aws):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), os.urandom(123)]
    completed = _multipart("staging/a/b", parts)
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert completed["ETag"] == f'"{digest}-3"'
    got = aws.s3().get_object(Bucket=get_settings().bucket, Key="staging/a/b")["Body"].read()
    assert got == b"".join(parts)


def test_a_ranged_get_reads_only_its_range(server_aws):
    data = os.urandom(12 * MIB)
    aws.s3().put_object(Bucket=get_settings().bucket, Key="staging/a/b", Body=data)
    stored = _stored_key("staging/a/b")
    counting = _CountingReads(stored._value_buffer)
    stored._value_buffer = counting
    got = aws.s3().get_object(Bucket=get_settings().bucket, Key="staging/a/b",
                              Range=f"bytes={5 * MIB}-{5 * MIB + 99}")
    assert got["Body"].read() == data[5 * MIB:5 * MIB + 100]
    assert got["ContentRange"] == f"bytes {5 * MIB}-{5 * MIB + 99}/{12 * MIB}"
    assert counting.read_bytes == 100


def test_part_copies_read_only_their_range(server_aws):
    data = os.urandom(11 * MIB)
    s3, bucket = aws.s3(), get_settings().bucket
    s3.put_object(Bucket=bucket, Key="staging/a/src", Body=data)
    stored = _stored_key("staging/a/src")
    counting = _CountingReads(stored._value_buffer)
    stored._value_buffer = counting
    s3.copy({"Bucket": bucket, "Key": "staging/a/src"}, bucket, "images/a/copy",
            Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
    # moto alone reads the whole source for every part (3 x 11 MiB); here each range is
    # copied once at most, inside the kernel where it can be.
    assert counting.read_bytes <= len(data)
    assert s3.get_object(Bucket=bucket, Key="images/a/copy")["Body"].read() == data


def test_a_completed_upload_reads_through_its_parts(server_aws):
    """Completion adopts the part files (instant, like S3); reads and copies cross parts."""
    s3, bucket = aws.s3(), get_settings().bucket
    parts = [os.urandom(5 * MIB), os.urandom(6 * MIB), os.urandom(3 * MIB + 1)]
    _multipart("staging/a/joined", parts)
    data = b"".join(parts)
    span = f"bytes={5 * MIB - 10}-{11 * MIB + 9}"  # across all three parts
    got = s3.get_object(Bucket=bucket, Key="staging/a/joined", Range=span)["Body"].read()
    assert got == data[5 * MIB - 10:11 * MIB + 10]
    s3.copy({"Bucket": bucket, "Key": "staging/a/joined"}, bucket, "images/a/copy",
            Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB))
    assert s3.get_object(Bucket=bucket, Key="images/a/copy")["Body"].read() == data
    s3.delete_object(Bucket=bucket, Key="staging/a/joined")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="staging/a/joined").get("KeyCount") == 0
