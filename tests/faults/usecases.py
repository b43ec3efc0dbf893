"""The use cases the crash matrix runs: each is an unarmed setup and a script of client
steps (API calls and worker runs, armed) for one project. Data-plane PUTs to presigned URLs
are the client's own, so they are not Glint's boundaries and run unarmed."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.faults.world import LATER_SECONDS, World

SMALL = os.urandom(4096)
COLD_STORE = "cold"
# What each end state must have published at least once, per image.
EXPECTED_EVENTS = {
    "queued": {"image.create"},
    "queued+reason": {"image.create", "image.import.failure"},
    "active": {"image.create", "image.activate"},
    "gone": {"image.delete"},
}


class ClientGaveUp(Exception):
    """The API answered something the client's script cannot go on from."""


@dataclass
class Script:
    """A use case for one project: setup (unarmed) makes what it needs, then `run` (the
    armed steps) does the use case. `image_id` is what setup made or the script learned."""

    world: World
    project: str
    origin: str = ""
    image_id: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def api(self, name: str, method: str, path: str, body: Any = None, wanted: int = 200,
            roles: str = "member", **raw: Any) -> Any:
        status, answer = self.world.step(name, lambda: self.world.call(
            method, path, body, project=self.project, roles=roles, **raw))
        if status != wanted:
            raise ClientGaveUp(f"{name}: {status} {answer}")
        return answer

    def create(self) -> str:
        image = self.api("create", "POST", "/v2/images",
                         {"name": "f", "disk_format": "raw", "container_format": "bare"}, 201)
        self.image_id = image["id"]
        return image["id"]

    def created(self) -> None:
        """Setup: a queued image, made with the harness disarmed (the create use case has
        its own crash points)."""
        status, image = self.world.call("POST", "/v2/images", {
            "name": "f", "disk_format": "raw", "container_format": "bare"},
            project=self.project)
        assert status == 201, image
        self.image_id = image["id"]

    def active(self) -> None:
        """Setup: an active image, made with the harness disarmed."""
        self.created()
        status, body = self.world.call("PUT", f"/v2/images/{self.image_id}/file",
                                       project=self.project, raw=SMALL,
                                       content_type="application/octet-stream")
        assert status == 204, body


def _create(s: Script) -> None:
    s.create()


def _single(s: Script) -> None:
    grant = s.api("grant", "POST", f"/v2/images/{s.image_id}/uploads", {"size": len(SMALL)}, 201)
    requests.put(grant["url"], data=SMALL, headers=grant["headers"], timeout=30).raise_for_status()
    s.world.run_worker()


def _multipart(s: Script) -> None:
    # One (last, so small) part keeps each crash point cheap; test_races sends two.
    grant = s.api("grant", "POST", f"/v2/images/{s.image_id}/uploads",
                  {"size": len(SMALL), "multipart": True}, 201)
    parts = []
    for part in grant["parts"]:
        start = (part["part_number"] - 1) * grant["part_size"]
        answer = requests.put(part["url"], data=SMALL[start:start + part["size"]],
                              headers=part["headers"], timeout=30)
        answer.raise_for_status()
        parts.append({"part_number": part["part_number"], "etag": answer.headers["ETag"]})
    s.api("complete", "POST", grant["complete"], {"parts": parts}, 202)
    s.world.run_worker()


def _put_file(s: Script) -> None:
    s.api("put-file", "PUT", f"/v2/images/{s.image_id}/file", wanted=204,
          content_type="application/octet-stream", raw=SMALL)


def _glance_direct(s: Script, **selection: Any) -> None:
    s.api("stage", "PUT", f"/v2/images/{s.image_id}/stage", wanted=204,
          content_type="application/octet-stream", raw=SMALL)
    s.world.run_worker()  # S3's event for the staged object comes first (and is set aside)
    s.api("import", "POST", f"/v2/images/{s.image_id}/import",
          {"method": {"name": "glance-direct"}, **selection}, 202)
    s.world.run_worker()


def _glance_direct_to_cold(s: Script) -> None:
    # Verified in the default store, copied to the one asked for, then gone from the default.
    _glance_direct(s, stores=[COLD_STORE])


def _web_download(s: Script) -> None:
    s.api("import", "POST", f"/v2/images/{s.image_id}/import",
          {"method": {"name": "web-download", "uri": f"{s.origin}/disk.raw"}}, 202)
    s.world.run_worker()


def _copy_image(s: Script) -> None:
    s.api("copy", "POST", f"/v2/images/{s.image_id}/import",
          {"method": {"name": "copy-image"}, "stores": [COLD_STORE]}, 202, roles="admin")
    s.world.run_worker()


def _delete(s: Script) -> None:
    s.api("delete", "DELETE", f"/v2/images/{s.image_id}", wanted=204)


def _delayed_delete(s: Script) -> None:
    _delete(s)
    s.world.step("scrubber", lambda: s.world.run_schedules(time.time() + LATER_SECONDS))


@dataclass(frozen=True)
class UseCase:
    """A named script, its setup, and settings it needs beyond the tier's."""

    name: str
    run: Callable[[Script], None]
    setup: Callable[[Script], None] | None = None
    settings: dict[str, str] = field(default_factory=dict)
    # The stores an active image's data must end in (empty: where it lands is not checked).
    stores: tuple[str, ...] = ()


USE_CASES = (
    UseCase("create", _create),
    UseCase("upload-single", _single, setup=Script.created),
    UseCase("upload-multipart", _multipart, setup=Script.created),
    UseCase("put-file", _put_file, setup=Script.created),
    UseCase("stage+glance-direct", _glance_direct, setup=Script.created),
    UseCase("stage+glance-direct to cold", _glance_direct_to_cold, setup=Script.created,
            stores=(COLD_STORE,)),
    UseCase("web-download", _web_download, setup=Script.created),
    UseCase("copy-image", _copy_image, setup=Script.active),
    UseCase("delete", _delete, setup=Script.active),
    UseCase("delayed-delete", _delayed_delete, setup=Script.active,
            settings={"GLINT_DELAYED_DELETE": "true"}),
)
