"""The embedded S3 keeps object bodies on disk: GETs (ranged or whole), multipart completion
and UploadPartCopy stream from the spooled files instead of reading whole bodies, and the
bytes S3 clients see are unchanged."""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import tracemalloc
import urllib.parse

import requests

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


def _part_url(key: str, upload: str, number: int) -> str:
    return aws.s3().generate_presigned_url("upload_part", Params={
        "Bucket": get_settings().bucket, "Key": key, "UploadId": upload, "PartNumber": number})


def test_a_large_part_goes_from_the_socket_to_disk(server_aws):
    """A presigned part PUT is written to a file as it arrives: the server never holds the
    body whole (moto alone joins it into bytes twice over: at least twice its size)."""
    s3, bucket = aws.s3(), get_settings().bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="staging/a/big")["UploadId"]
    data = os.urandom(64 * MIB)
    tracemalloc.start()
    try:
        sent = requests.put(_part_url("staging/a/big", upload, 1), data=data, timeout=60)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent.status_code == 200
    # A quarter of the part leaves room for whatever else the process allocates meanwhile.
    assert peak < len(data) / 4, f"{peak / MIB:.1f} MiB held while a 64 MiB part arrived"
    assert sent.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    tail = os.urandom(100)
    s3.upload_part(Bucket=bucket, Key="staging/a/big", UploadId=upload, PartNumber=2, Body=tail)
    parts = [{"PartNumber": 1, "ETag": sent.headers["ETag"]},
             {"PartNumber": 2, "ETag": f'"{hashlib.md5(tail).hexdigest()}"'}]
    s3.complete_multipart_upload(Bucket=bucket, Key="staging/a/big", UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    got = s3.get_object(Bucket=bucket, Key="staging/a/big")["Body"].read()
    assert got == data + tail


def test_large_object_puts_keep_their_bytes_and_etag(server_aws):
    """Presigned (as clients send them) and SDK PUTs with a declared checksum alike."""
    s3, bucket = aws.s3(), get_settings().bucket
    data = os.urandom(7 * MIB)
    etag = f'"{hashlib.md5(data).hexdigest()}"'
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "staging/a/p"})
    assert requests.put(url, data=data, timeout=60).headers["ETag"] == etag
    checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="staging/a/q", Body=data, ChecksumSHA256=checksum)
    assert put["ETag"] == etag
    for key in ("staging/a/p", "staging/a/q"):
        got = s3.get_object(Bucket=bucket, Key=key)
        assert (got["ETag"], got["Body"].read()) == (etag, data)


def test_a_part_cut_short_is_not_stored(server_aws, moto_endpoint):
    """The client stops sending halfway: no part is recorded, and the server carries on."""
    s3, bucket = aws.s3(), get_settings().bucket
    upload = s3.create_multipart_upload(Bucket=bucket, Key="staging/a/cut")["UploadId"]
    url = urllib.parse.urlsplit(_part_url("staging/a/cut", upload, 1))
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                     f"Content-Length: {12 * MIB}\r\n\r\n".encode() + bytes(6 * MIB))
        sock.shutdown(socket.SHUT_WR)
        sock.recv(65536)  # whatever the server answers (or nothing), once it has given up
    listed = s3.list_parts(Bucket=bucket, Key="staging/a/cut", UploadId=upload)
    assert listed.get("Parts", []) == []


def test_a_copied_part_has_the_md5_of_its_range(server_aws):
    s3, bucket = aws.s3(), get_settings().bucket
    data = os.urandom(7 * MIB)
    s3.put_object(Bucket=bucket, Key="staging/a/src", Body=data)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="images/a/part")["UploadId"]
    source = {"Bucket": bucket, "Key": "staging/a/src"}
    copied = s3.upload_part_copy(Bucket=bucket, Key="images/a/part", UploadId=upload,
                                 PartNumber=1, CopySource=source,
                                 CopySourceRange=f"bytes={MIB}-{6 * MIB - 1}")
    assert copied["CopyPartResult"]["ETag"] == f'"{hashlib.md5(data[MIB:6 * MIB]).hexdigest()}"'
