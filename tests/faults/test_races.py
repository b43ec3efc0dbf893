"""Races with real concurrency (threads against the same in-process moto, DynamoDB writes
atomic per item as in AWS): duplicate, reordered and late S3/SQS events, two workers on one
upload, and user requests landing in the middle of an import."""
from __future__ import annotations

import hashlib
import os
import threading

import pytest
import requests

from tests.faults import converge
from tests.faults.crash import at
from tests.faults.usecases import EXPECTED_EVENTS
from tests.faults.world import World

DATA = os.urandom(4096)
PATCH = "application/openstack-images-v2.1-json-patch"


def _converged(world: World, project: str) -> None:
    outcome, problems = converge.check(project, world.injector.published, EXPECTED_EVENTS)
    assert not problems, f"{outcome}: {problems}"


def _activations(world: World, image_id: str) -> set[str]:
    """Distinct image.activate events (repeats of one event share its id)."""
    return {e["detail"].get("event_id") for e in world.injector.published
            if e["name"] == "image.activate" and e["detail"].get("image_id") == image_id}


def _together(world: World, *actions) -> None:
    """Run the actions on threads released at the same moment; re-raise what they raised."""
    barrier = threading.Barrier(len(actions))

    def released(action):
        return lambda: (barrier.wait(timeout=30), action())

    for thread in [world.background(released(action)) for action in actions]:
        thread.join()


def test_two_workers_racing_on_one_upload_activate_it_once(world):
    image_id = world.direct_upload("twins", DATA)
    [message] = world.receive()
    _together(world, lambda: world.invoke(message), lambda: world.invoke(message))
    world.recover()
    image = world.image(image_id)
    assert image["status"] == "active"
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()  # noqa: S324 - Glance's checksum
    assert len(_activations(world, image_id)) == 1
    _converged(world, "twins")


def test_a_duplicate_event_delivered_after_activation_changes_nothing(world):
    image_id = world.direct_upload("again", DATA)
    [message] = world.receive()
    world.invoke(message)
    before = world.image(image_id)
    world.invoke(message)  # S3 and SQS may deliver any event twice, late
    world.recover()
    after = world.image(image_id)
    assert (after["status"], after["checksum"], after["updated_at"]) == (
        "active", before["checksum"], before["updated_at"])
    assert len(_activations(world, image_id)) == 1
    _converged(world, "again")


def test_a_late_event_of_a_superseded_upload_loses_to_the_newer_upload(world):
    image_id = world.direct_upload("late", DATA)
    [stale] = world.receive()
    newer = os.urandom(len(DATA))
    status, grant = world.call("POST", f"/v2/images/{image_id}/uploads", {"size": len(newer)},
                               project="late")
    assert status == 201, grant
    requests.put(grant["url"], data=newer, headers=grant["headers"], timeout=30)
    fresh = world.receive()
    for message in [*fresh, stale]:  # the older upload's event arrives last
        world.handle(message)
    world.recover()
    image = world.image(image_id)
    assert image["status"] == "active"
    assert image["checksum"] == hashlib.md5(newer).hexdigest()  # noqa: S324
    _converged(world, "late")


def test_multipart_events_in_reverse_order_activate_once(world):
    data = os.urandom(5 * 1024 * 1024 + 10)
    status, image = world.call("POST", "/v2/images", {
        "name": "mp", "disk_format": "raw", "container_format": "bare"}, project="mp")
    status, grant = world.call("POST", f"/v2/images/{image['id']}/uploads", {
        "size": len(data), "multipart": True, "part_size": 5 * 1024 * 1024}, project="mp")
    parts = []
    for part in grant["parts"]:
        offset = (part["part_number"] - 1) * grant["part_size"]
        answer = requests.put(part["url"], data=data[offset:offset + part["size"]],
                              headers=part["headers"], timeout=30)
        parts.append({"part_number": part["part_number"], "etag": answer.headers["ETag"]})
    assert world.call("POST", grant["complete"], {"parts": parts}, project="mp")[0] == 202
    messages = world.receive()
    assert len(messages) >= 2, "moto sends Put and CompleteMultipartUpload"
    _together(world, *[lambda m=m: world.handle(m) for m in reversed(messages)])
    world.recover()
    assert world.image(image["id"])["status"] == "active"
    assert len(_activations(world, image["id"])) == 1
    _converged(world, "mp")


def test_an_event_arriving_after_the_image_was_deleted_does_not_bring_it_back(world):
    image_id = world.direct_upload("gone", DATA)
    [message] = world.receive()
    assert world.call("DELETE", f"/v2/images/{image_id}", project="gone")[0] == 204
    world.invoke(message)
    world.recover()
    assert world.image(image_id) is None
    _converged(world, "gone")


def _patch(world: World, image_id: str, project: str) -> None:
    status, body = world.call("PATCH", f"/v2/images/{image_id}", [
        {"op": "add", "path": "/os_distro", "value": "cirros"}], project=project,
        content_type=PATCH)
    assert status == 200, body


def _tag(world: World, image_id: str, project: str) -> None:
    assert world.call("PUT", f"/v2/images/{image_id}/tags/blue", project=project)[0] == 204


def _deactivate(world: World, image_id: str, project: str) -> None:
    # Only an active image can be deactivated: during an import Glance answers 403.
    status, _ = world.call("POST", f"/v2/images/{image_id}/actions/deactivate",
                           project=project, roles="admin")
    assert status in (204, 403), status


def _delete(world: World, image_id: str, project: str) -> None:
    assert world.call("DELETE", f"/v2/images/{image_id}", project=project)[0] == 204


def _kept(image: dict | None, request) -> bool:
    if request is _delete:
        return image is None
    if image is None or image["status"] not in ("active", "deactivated"):
        return False
    return {_patch: image.get("os_distro") == "cirros", _tag: image["tags"] == ["blue"],
            _deactivate: True}[request]


@pytest.mark.parametrize("where", [at("after", "s3", "GetObject"), at("after", "s3", "CopyObject")],
                         ids=["while-verifying", "before-activating"])
@pytest.mark.parametrize("request_", [_patch, _tag, _deactivate, _delete],
                         ids=["patch", "tags", "deactivate", "delete"])
def test_a_request_racing_an_import_converges_and_is_kept(world, where, request_):
    project = f"race-{request_.__name__[1:]}"
    image_id = world.direct_upload(project, DATA)
    [message] = world.receive()
    gate = world.hold(where)
    worker = world.background(lambda: world.handle(message))
    gate.wait()
    request_(world, image_id, project)
    gate.open()
    try:
        worker.join()
    except Exception:  # noqa: BLE001 - a failed attempt is redelivered by recovery
        pass
    world.recover()
    image = world.image(image_id)
    assert _kept(image, request_), image
    _converged(world, project)
