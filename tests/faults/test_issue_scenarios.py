"""The seven ways issue #10 found to break "every image converges", one test each (item 1
has two: the upload and the rejection reason). Each failed on the code the issue was filed
against; concurrent requests are real threads against the same moto, held at a boundary."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time

import pytest
import requests

from chalicelib import aws, stores
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from tests.faults import converge
from tests.faults.crash import Boundary, Gate, at, failing
from tests.faults.usecases import COLD_STORE, EXPECTED_EVENTS
from tests.faults.world import Abandoned, Background, World, moved_clock

PATCH = "application/openstack-images-v2.1-json-patch"
DATA = os.urandom(4096)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324 - Glance's checksum


def _converged(world: World, project: str) -> None:
    outcome, problems = converge.check(project, world.injector.published, EXPECTED_EVENTS)
    assert not problems, f"{outcome}: {problems}"


def _worker_held_at(world: World, where) -> tuple[Background, Gate]:
    """The worker, on its own thread, on the one message waiting, held where `where` says."""
    [message] = world.receive()
    gate = world.hold(where)
    worker = world.background(lambda: world.handle(message))
    gate.wait()
    return worker, gate


def _finish(worker: Background, gate: Gate) -> None:
    gate.open()
    try:
        worker.join()
    except Exception:  # noqa: BLE001 - a failed attempt is redelivered by recovery
        pass


def test_item1_an_edit_during_an_import_keeps_both_the_upload_and_the_edit(world):
    image_id = world.direct_upload("edit", DATA)
    worker, gate = _worker_held_at(world, at("before", "s3", "CopyObject"))
    status, body = world.call("PATCH", f"/v2/images/{image_id}", [
        {"op": "add", "path": "/os_distro", "value": "cirros"}], project="edit",
        content_type=PATCH)
    assert status == 200, body
    assert world.call("PUT", f"/v2/images/{image_id}/tags/blue", project="edit")[0] == 204
    _finish(worker, gate)
    world.recover()
    image = world.image(image_id)
    assert (image["status"], image["checksum"]) == ("active", _md5(DATA)), image
    assert image["os_distro"] == "cirros" and image["tags"] == ["blue"]
    _converged(world, "edit")


def test_item1_an_edit_during_an_import_keeps_the_rejection_reason(world):
    image_id = world.direct_upload("reject", DATA, size=len(DATA) + 1)
    worker, gate = _worker_held_at(world, at("after", "s3", "GetObject"))
    assert world.call("PUT", f"/v2/images/{image_id}/tags/blue", project="reject")[0] == 204
    _finish(worker, gate)
    world.recover()
    image = world.image(image_id)
    assert image["status"] == "queued" and image["tags"] == ["blue"]
    assert "declared" in image["os_glint_import_error"], image["os_glint_import_error"]
    _converged(world, "reject")


def test_item2_a_multipart_upload_kept_alive_past_its_first_expiry_is_not_reaped(world):
    settings = get_settings()
    expiry, grace = settings.presign_expires_seconds, settings.reap_after_seconds
    data = os.urandom(5 * 1024 * 1024 + 10)
    start = time.time()
    status, image = world.call("POST", "/v2/images", {
        "name": "long", "disk_format": "raw", "container_format": "bare"}, project="long")
    with moved_clock(world.monkeypatch, start):
        status, grant = world.call("POST", f"/v2/images/{image['id']}/uploads", {
            "size": len(data), "multipart": True, "part_size": 5 * 1024 * 1024},
            project="long")
    assert status == 201, grant
    etags = {}

    def put(part: dict) -> None:
        offset = (part["part_number"] - 1) * grant["part_size"]
        answer = requests.put(part["url"], data=data[offset:offset + part["size"]],
                              headers=part["headers"], timeout=30)
        answer.raise_for_status()
        etags[part["part_number"]] = answer.headers["ETag"]

    put(grant["parts"][0])
    # The URLs expired; within the reaper's grace the client asks for fresh ones.
    resumed = start + expiry + grace // 2
    with moved_clock(world.monkeypatch, resumed):
        status, fresh = world.call("GET", f"{grant['self']}?first_part=2", project="long")
    assert status == 200, fresh
    # Past the first URLs' expiry plus grace, before the fresh ones' expiry plus grace.
    world.run_schedules(resumed + expiry + grace // 2)
    assert world.image(image["id"])["status"] == "uploading"
    put(fresh["parts"][0])
    status, body = world.call("POST", grant["complete"], {"parts": [
        {"part_number": n, "etag": etags[n]} for n in sorted(etags)]}, project="long")
    assert status == 202, body
    world.redeliver()
    assert world.image(image["id"])["status"] == "active"
    _converged(world, "long")


def _stage(world: World, project: str) -> str:
    status, image = world.call("POST", "/v2/images", {
        "name": "s", "disk_format": "raw", "container_format": "bare"}, project=project)
    assert status == 201
    return image["id"]


def _stage_put_fails(world: World) -> str:
    image_id = _stage(world, "stuck-stage")
    world.injector.failure = failing(at("before", "s3", "PutObject"))
    status, _ = world.call("PUT", f"/v2/images/{image_id}/stage", raw=DATA,
                           content_type="application/octet-stream", project="stuck-stage")
    assert status >= 500
    return image_id


def _glance_direct_send_fails(world: World) -> str:
    image_id = _stage(world, "stuck-direct")
    assert world.call("PUT", f"/v2/images/{image_id}/stage", raw=DATA, project="stuck-direct",
                      content_type="application/octet-stream")[0] == 204
    world.redeliver()  # S3's event for the staged object comes first (and is set aside)
    world.injector.failure = failing(at("before", "sqs", "SendMessage"))
    status, _ = world.call("POST", f"/v2/images/{image_id}/import",
                           {"method": {"name": "glance-direct"}}, project="stuck-direct")
    assert status in (202, 500, 503)
    return image_id


def _copy_send_fails(world: World) -> str:
    image_id = _stage(world, "stuck-copy")
    assert world.call("PUT", f"/v2/images/{image_id}/file", raw=DATA, project="stuck-copy",
                      content_type="application/octet-stream")[0] == 204
    world.injector.failure = failing(at("before", "sqs", "SendMessage"))
    status, _ = world.call("POST", f"/v2/images/{image_id}/import", {
        "method": {"name": "copy-image"}, "stores": [COLD_STORE]}, project="stuck-copy",
        roles="admin")
    assert status in (202, 500, 503)
    return image_id


@pytest.mark.parametrize("path", [_stage_put_fails, _glance_direct_send_fails, _copy_send_fails],
                         ids=["stage-put", "glance-direct-send", "copy-image-send"])
def test_item3_no_path_leaves_an_image_pending_when_its_side_effect_fails(world, path):
    image_id = path(world)
    world.injector.failure = None
    world.recover()
    project = world.image(image_id)["owner"]
    _converged(world, project)
    if path is _stage_put_fails:  # the owner can stage again
        assert world.call("PUT", f"/v2/images/{image_id}/stage", raw=DATA, project=project,
                          content_type="application/octet-stream")[0] == 204


def _in_store(bucket: str, image_id: str) -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=bucket, Prefix=f"images/{image_id}/")
    return [obj["Key"] for obj in listed.get("Contents", [])]


def test_item4_a_delete_whose_store_refuses_leaks_nothing(world):
    image_id = _stage(world, "leak")
    assert world.call("PUT", f"/v2/images/{image_id}/file", raw=DATA, project="leak",
                      content_type="application/octet-stream")[0] == 204
    assert world.call("POST", f"/v2/images/{image_id}/import", {
        "method": {"name": "copy-image"}, "stores": [COLD_STORE]}, project="leak",
        roles="admin")[0] == 202
    world.redeliver()
    cold = stores.get(COLD_STORE).bucket
    assert _in_store(cold, image_id), "the copy did not land"
    world.injector.failure = failing(
        lambda b: b.operation == "DeleteObject" and b.params.get("Bucket") == cold, times=99)
    status, _ = world.call("DELETE", f"/v2/images/{image_id}", project="leak")
    world.injector.failure = None
    if status != 204:  # the client retries
        assert world.call("DELETE", f"/v2/images/{image_id}", project="leak")[0] in (204, 404)
    world.recover()
    assert world.image(image_id) is None
    assert _in_store(cold, image_id) == [] and _in_store(get_settings().bucket, image_id) == []
    _converged(world, "leak")


def test_item5_bytes_put_again_during_verification_are_never_activated_unverified(world):
    image_id = world.direct_upload("swap", DATA)
    worker, gate = _worker_held_at(world, at("before", "s3", "CopyObject"))
    other = os.urandom(len(DATA))
    requests.put(world.grant["url"], data=other, headers=world.grant["headers"],
                 timeout=30).raise_for_status()
    _finish(worker, gate)
    world.recover()
    image = image_db.get(image_id)
    if image.status == "active":
        [location] = image.locations
        body = aws.s3().get_object(Bucket=get_settings().bucket, Key=location.key)["Body"].read()
        assert _md5(body) == image.checksum, "the stored bytes are not the verified bytes"
    _converged(world, "swap")


def _writes_status(status: str):
    def matches(boundary: Boundary) -> bool:
        return (boundary.phase == "after" and boundary.service == "dynamodb"
                and boundary.operation in ("PutItem", "UpdateItem", "TransactWriteItems")
                and "images" in json.dumps(boundary.params, default=str)
                and f'{{"S": "{status}"}}' in json.dumps(boundary.params, default=str))
    return matches


@pytest.mark.parametrize("status", ["active", "deleted"])
def test_item6_quota_counters_match_a_recount_after_a_crash_at_the_write(world, status):
    project = f"quota-{status}"
    image_id = world.direct_upload(project, DATA)
    if status == "deleted":
        world.redeliver()
    world.injector.crash_when = _writes_status(status)
    with contextlib.suppress(Abandoned):
        if status == "active":
            world.run_worker()
        else:
            world.step("delete", lambda: world.call("DELETE", f"/v2/images/{image_id}",
                                                    project=project))
    assert world.crashed_at, "the crash point was never reached"
    world.injector.crash_when = None
    world.recover()
    found = converge.records(project)
    assert converge.quotas(project, found) == []


@pytest.mark.settings(GLINT_IMPORT_LEASE_SECONDS="3")
def test_item7_the_lease_is_renewed_during_a_long_copy(world):
    image_id = world.direct_upload("lease", DATA)
    [message] = world.receive()
    gate = world.hold(at("before", "s3", "CopyObject"))
    worker = world.background(lambda: world.invoke(message))
    gate.wait()
    time.sleep(4.5)  # the copy takes longer than the lease
    main = []
    world.injector.on_boundary.append(lambda b: main.append(b.label) if b.operation in (
        "GetObject", "CopyObject") else None)
    world.invoke(message)  # SQS redelivers: the first worker is still at work
    assert main == [], f"a redelivery took the import over mid-copy: {main}"
    _finish(worker, gate)
    world.recover()
    assert world.image(image_id)["status"] == "active"
    _converged(world, "lease")
