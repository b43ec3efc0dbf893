"""Ranged parallel reads from moto's S3 server: the bytes come back whole and in order, a
bounded number of ranges is in flight, and every range is pinned to one ETag."""
from __future__ import annotations

import os
import threading

import pytest

from chalicelib import aws
from chalicelib.blobs import objects, reads
from chalicelib.config import get_settings
from chalicelib.domain.errors import NotFound

KIB = 1024


def _put(key: str, data: bytes) -> str:
    return aws.s3().put_object(Bucket=get_settings().bucket, Key=key, Body=data)["ETag"]


def test_bytes_come_back_whole_and_in_order(server_aws):
    data = os.urandom(300 * KIB + 11)
    _put("staging/a/b", data)
    chunks = list(reads.iter_object("staging/a/b", part_size=64 * KIB, concurrency=3))
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks] == [64 * KIB] * 4 + [44 * KIB + 11]


def test_an_empty_object_yields_nothing(server_aws):
    _put("staging/a/empty", b"")
    assert list(reads.iter_object("staging/a/empty")) == []


def test_at_most_concurrency_ranges_are_in_flight(server_aws):
    _put("staging/a/b", os.urandom(640 * KIB))
    in_flight, peak, lock = [0], [0], threading.Lock()

    def started(**_):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])

    def finished(**_):
        with lock:
            in_flight[0] -= 1

    s3 = aws.s3()
    s3.meta.events.register("before-call.s3.GetObject", started)
    s3.meta.events.register("after-call.s3.GetObject", finished)
    try:
        consumed = 0
        for chunk in reads.iter_object("staging/a/b", part_size=32 * KIB, concurrency=2):
            consumed += len(chunk)
    finally:
        s3.meta.events.unregister("before-call.s3.GetObject", started)
        s3.meta.events.unregister("after-call.s3.GetObject", finished)
    assert consumed == 640 * KIB
    assert 1 <= peak[0] <= 2


def test_a_pinned_etag_that_no_longer_matches_is_refused(server_aws):
    etag = _put("staging/a/b", b"first version" * 1000)
    _put("staging/a/b", b"second version" * 1000)
    with pytest.raises(objects.Changed):
        list(reads.iter_object("staging/a/b", if_match=etag))


def test_an_object_replaced_mid_read_stops_the_read(server_aws):
    _put("staging/a/b", os.urandom(256 * KIB))
    chunks = reads.iter_object("staging/a/b", part_size=16 * KIB, concurrency=1)
    next(chunks)
    _put("staging/a/b", os.urandom(256 * KIB))
    with pytest.raises(objects.Changed):
        list(chunks)


def test_a_missing_object_is_not_found(server_aws):
    with pytest.raises(NotFound):
        list(reads.iter_object("staging/a/none"))
