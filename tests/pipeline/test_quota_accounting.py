"""Quota accounting over real HTTP into moto's server: concurrent reservations never
overshoot, and usage returns to zero after rejected, abandoned and deleted uploads."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from chalicelib.config import get_settings
from chalicelib.db import usage as usage_db
from chalicelib.domain import usage
from chalicelib.domain.errors import QuotaExceeded
from chalicelib.pipeline.recovery import reap
from tests.support import call, create_image, deliver, drain, upload_single

MIB = 1024 * 1024
THREADS = 50
LATER = time.time() + get_settings().reap_after_seconds + 3600
ZERO = dict.fromkeys(usage.QUOTA_NAMES, 0)


def _race(deltas, limits) -> list[bool]:
    """THREADS reservations of `deltas` at once; which of them succeeded."""
    usage_db.read("p1")  # open the connection before the threads share it

    def reserve(_: int) -> bool:
        try:
            usage_db.reserve("p1", deltas, limits)
        except QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(reserve, range(THREADS)))


def test_concurrent_reservations_never_exceed_the_limit(server_aws):
    limits = {**dict.fromkeys(usage.QUOTA_NAMES, usage.UNLIMITED),
              usage.IMAGE_COUNT_UPLOADING: 10}
    assert sum(_race(usage.upload(MIB), limits)) == 10
    counters = usage_db.read("p1").counters
    assert counters[usage.IMAGE_COUNT_UPLOADING] == 10
    # The losers changed nothing: no counter moved without its condition.
    assert counters[usage.IMAGE_STAGE_TOTAL] == counters[usage.IMAGE_SIZE_TOTAL] == 10 * MIB


def test_concurrent_byte_reservations_never_exceed_the_size_limit(server_aws):
    limits = {**dict.fromkeys(usage.QUOTA_NAMES, usage.UNLIMITED), usage.IMAGE_SIZE_TOTAL: 25}
    assert sum(_race(usage.upload(2 * MIB + 1), limits)) == 12  # 12 * (2 MiB + 1) <= 25 MiB
    assert usage_db.read("p1").counters[usage.IMAGE_SIZE_TOTAL] == 12 * (2 * MIB + 1)


def _counters(project="admin"):
    return {**ZERO, **usage_db.read(project).counters}


def _delete(client, image_id):
    assert call(client, "DELETE", f"/v2/images/{image_id}")[0] == 204


def test_activation_settles_to_the_real_size_once_and_delete_returns_to_zero(server_client,
                                                                            server_aws):
    data = os.urandom(MIB + 5)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    assert _counters() == {**ZERO, "image_count_total": 1, "image_count_uploading": 1,
                           "image_stage_total": len(data), "image_size_total": len(data)}
    messages = drain(server_aws.queue_url)
    deliver(server_client, messages)
    deliver(server_client, messages)  # S3 and SQS deliver twice: counted once
    assert call(server_client, "GET", f"/v2/images/{image['id']}")[1]["status"] == "active"
    assert _counters() == {**ZERO, "image_count_total": 1, "image_size_total": len(data)}
    _delete(server_client, image["id"])
    assert _counters() == ZERO


def test_rejected_upload_gives_its_hold_back(server_client, server_aws):
    image = create_image(server_client, disk_format="qcow2")
    upload_single(server_client, image["id"], os.urandom(4096))  # not a qcow2 image
    deliver(server_client, drain(server_aws.queue_url))
    shown = call(server_client, "GET", f"/v2/images/{image['id']}")[1]
    assert shown["status"] == "queued" and shown["os_glint_import_error"]
    assert _counters() == {**ZERO, "image_count_total": 1}
    # A retry is charged afresh, and deleting mid-upload gives that back too.
    call(server_client, "POST", f"/v2/images/{image['id']}/uploads", {"size": 100})
    assert _counters()["image_count_uploading"] == 1
    _delete(server_client, image["id"])
    assert _counters() == ZERO


def test_abandoned_upload_reaped_gives_its_hold_back(server_client, server_aws):
    image = create_image(server_client)
    status, _, _ = call(server_client, "POST", f"/v2/images/{image['id']}/uploads",
                        {"size": 3 * MIB})
    assert status == 201
    assert _counters()["image_stage_total"] == 3 * MIB
    assert reap(LATER).failed == (image["id"],)
    assert reap(LATER).failed == ()  # a second pass finds nothing to give back
    assert _counters() == {**ZERO, "image_count_total": 1}
    _delete(server_client, image["id"])
    assert _counters() == ZERO


def test_delete_racing_the_worker_counts_once(server_client, server_aws):
    data = os.urandom(2048)
    image = create_image(server_client)
    upload_single(server_client, image["id"], data)
    messages = drain(server_aws.queue_url)
    _delete(server_client, image["id"])  # before the worker ran
    deliver(server_client, messages)
    assert _counters() == ZERO


def test_staged_then_imported_settles(server_client, server_aws):
    data = os.urandom(70_000)
    image = create_image(server_client)
    headers = {"X-Project-Id": "admin", "X-Roles": "admin",
               "Content-Type": "application/octet-stream"}
    assert server_client.http.put(f"/v2/images/{image['id']}/stage", headers=headers,
                                  body=data).status_code == 204
    drain(server_aws.queue_url)  # staged for glance-direct: the worker waits for the import
    assert call(server_client, "POST", f"/v2/images/{image['id']}/import",
                {"method": {"name": "glance-direct"}})[0] == 202
    deliver(server_client, drain(server_aws.queue_url))
    assert _counters() == {**ZERO, "image_count_total": 1, "image_size_total": len(data)}
