"""Multipart uploads that take hours: asking for fresh part URLs keeps the upload alive
through the reaper, resuming after the URLs expired included; an abandoned one is still
reaped and its parts discarded. Time is moved with an injected clock (`time.time`)."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.domain.image import wire_epoch
from chalicelib.domain.uploads import MIN_PART_SIZE
from chalicelib.pipeline.recovery import reap
from tests.support import call, create_image, deliver, drain

DATA = os.urandom(MIN_PART_SIZE + 10)


@contextmanager
def clock_at(monkeypatch: pytest.MonkeyPatch, now: float) -> Iterator[None]:
    """`time.time()` reads `now` inside the block."""
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: now)
        yield


def _put_part(part: dict) -> str:
    response = requests.put(part["url"], data=DATA[(part["part_number"] - 1) * MIN_PART_SIZE:][
        :part["size"]], headers=part["headers"], timeout=30)
    response.raise_for_status()
    return response.headers["ETag"]


def _start(client, monkeypatch, now: float) -> tuple[str, dict]:
    image = create_image(client)
    with clock_at(monkeypatch, now):
        status, grant, _ = call(client, "POST", f"/v2/images/{image['id']}/uploads",
                                {"size": len(DATA), "multipart": True,
                                 "part_size": MIN_PART_SIZE})
    assert status == 201, grant
    return image["id"], grant


def _open_uploads() -> list[str]:
    listed = aws.s3().list_multipart_uploads(Bucket=get_settings().bucket)
    return [upload["Key"] for upload in listed.get("Uploads", [])]


def test_an_upload_resumed_again_and_again_for_hours_is_never_reaped(server_client, server_aws,
                                                                     monkeypatch):
    settings = get_settings()
    expiry, grace = settings.presign_expires_seconds, settings.reap_after_seconds
    start = time.time()
    image_id, grant = _start(server_client, monkeypatch, start)
    first = _put_part(grant["parts"][0])
    # Each step the URLs have expired, the client comes back within the reaper's grace,
    # and the reaper runs just before the fresh URLs' expiry plus grace: four hours in all.
    now = start
    while now < start + 4 * 3600:
        now += expiry + grace // 2
        with clock_at(monkeypatch, now):
            status, fresh, _ = call(server_client, "GET", f"{grant['self']}?first_part=2")
        assert status == 200, fresh
        assert [p["part_number"] for p in fresh["uploaded_parts"]] == [1]
        assert wire_epoch(fresh["expires_at"]) == int(now) + expiry  # moved with each ask
        assert reap(now + expiry + grace - 1).failed == ()
    second = _put_part(fresh["parts"][0])
    status, _, _ = call(server_client, "POST", f"{grant['self']}/complete", {"parts": [
        {"part_number": 1, "etag": first}, {"part_number": 2, "etag": second}]})
    assert status == 202
    deliver(server_client, drain(server_aws.queue_url))
    image = call(server_client, "GET", f"/v2/images/{image_id}")[1]
    assert image["status"] == "active" and image["size"] == len(DATA)


def test_an_abandoned_upload_is_still_reaped_and_its_parts_discarded(server_client, server_aws,
                                                                     monkeypatch):
    settings = get_settings()
    start = time.time()
    image_id, grant = _start(server_client, monkeypatch, start)
    _put_part(grant["parts"][0])
    assert len(_open_uploads()) == 1
    late = start + settings.presign_expires_seconds + settings.reap_after_seconds + 1
    assert reap(late).failed == (image_id,)
    assert _open_uploads() == []
    image = call(server_client, "GET", f"/v2/images/{image_id}")[1]
    assert image["status"] == "queued" and "abandoned" in image["os_glint_import_error"]
    assert call(server_client, "GET", grant["self"])[0] == 404
