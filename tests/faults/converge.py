"""Convergence: what must hold for one project once recovery has run. Each check returns
the problems it found, as sentences, so that a table can show them."""
from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3

from chalicelib import aws, stores
from chalicelib.blobs import keys
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import tasks as task_db
from chalicelib.db import usage as usage_db
from chalicelib.domain import usage
from chalicelib.domain.errors import NotFound
from chalicelib.domain.image import Image, Status
from chalicelib.domain.tasks import FINISHED

SETTLED = (Status.ACTIVE, Status.DEACTIVATED, Status.QUEUED)
# Where an event carries its own id, so that a consumer can drop a repeat.
EVENT_ID_FIELD = "event_id"


@dataclass(frozen=True, slots=True)
class Records:
    """A project's images as stored: the live ones, and the ids of every image it ever had
    (tombstones included)."""

    live: dict[str, Image]
    every_id: frozenset[str]


@functools.cache
def _dynamodb() -> Any:
    return boto3.client("dynamodb", region_name=get_settings().region)


def records(project: str) -> Records:
    """Read the project's image records from the table (a scan: tests only)."""
    ids = set()
    for page in _dynamodb().get_paginator("scan").paginate(TableName=get_settings().images_table):
        ids |= {item["id"]["S"] for item in page["Items"] if item["owner"]["S"] == project}
    live = {}
    for image_id in ids:
        try:
            live[image_id] = image_db.get(image_id)
        except NotFound:
            pass
    return Records(live, frozenset(ids))


def outcome(found: Records) -> str:
    """The images' end states in a word or two, for the table."""
    if not found.every_id:
        return "none"
    states = []
    for image_id in sorted(found.every_id):
        image = found.live.get(image_id)
        if image is None:
            states.append("gone")
        elif image.status is Status.QUEUED and image.import_error:
            states.append("queued+reason")
        else:
            states.append(str(image.status))
    return ",".join(states)


def statuses(found: Records) -> list[str]:
    """Every image ends active (or deactivated), queued (with a reason if an import was
    ever started for it), or gone; and every task of it has finished."""
    problems = []
    for image in found.live.values():
        tasks = task_db.for_image(image.id)
        if image.status not in SETTLED:
            problems.append(f"image {image.id} stuck {image.status}")
        elif image.status is Status.QUEUED and tasks and not image.import_error:
            problems.append(f"image {image.id} queued after an import with no reason")
        problems += [f"task {t.id} ({t.type}) still {t.status}" for t in tasks
                     if t.status not in FINISHED]
        importing = [p for p in ("os_glance_importing_to_stores",) if image.properties.get(p)]
        problems += [f"image {image.id} still lists {p}={image.properties[p]}" for p in importing]
    return problems


def orphans(found: Records) -> list[str]:
    """No object or multipart upload under images/ or staging/, in any store, that no live
    record owns."""
    owned = set()
    for image in found.live.values():
        owned |= {(stores.get(loc.store).bucket, loc.key) for loc in image.locations
                  if loc.status != "deleted"}
        if image.upload is not None and image.status in (Status.UPLOADING, Status.IMPORTING):
            owned.add((get_settings().bucket, image.upload.key))
    problems = []
    for bucket, key in _stored(found.every_id):
        if (bucket, key) not in owned:
            problems.append(f"orphan s3://{bucket}/{key}")
    return problems


def _stored(image_ids: Iterable[str]) -> Iterable[tuple[str, str]]:
    s3 = aws.s3()
    for bucket in {store.bucket for store in stores.configured()}:
        for image_id in image_ids:
            for prefix in (keys.image_key(image_id, ""), keys.staging_prefix(image_id)):
                listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
                yield from ((bucket, o["Key"]) for o in listed.get("Contents", []))
                uploads = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
                yield from ((bucket, f"{u['Key']} (multipart {u['UploadId'][:8]})")
                            for u in uploads.get("Uploads", []))


def recount(found: Records) -> dict[str, int]:
    """The project's usage recounted from its records."""
    total: Counter[str] = Counter()
    for image in found.live.values():
        total.update(usage.new_image())
        total.update({usage.IMAGE_SIZE_TOTAL: usage.stored_bytes(image)})
        total.update(usage.reserved(image.upload))
    return {name: total.get(name, 0) for name in usage.QUOTA_NAMES}


def quotas(project: str, found: Records) -> list[str]:
    """The counters equal a recount from the records."""
    counters = {name: usage_db.read(project).counters.get(name, 0) for name in usage.QUOTA_NAMES}
    expected = recount(found)
    return [f"quota {name} is {counters[name]}, records say {expected[name]}"
            for name in usage.QUOTA_NAMES if counters[name] != expected[name]]


def events(found: Records, published: list[dict[str, Any]], expected: dict[str, set[str]],
           ) -> list[str]:
    """Each image's expected events were published at least once, and repeats of one event
    share an id (so that consumers can drop them): `expected` maps an end state to events."""
    problems = []
    mine = [e for e in published if e["detail"].get("image_id") in found.every_id]
    for image_id in found.every_id:
        image = found.live.get(image_id)
        state = "gone" if image is None else outcome(Records({image_id: image}, frozenset(
            {image_id})))
        names = {e["name"] for e in mine if e["detail"]["image_id"] == image_id}
        missing = expected.get(state, set()) - names
        problems += [f"event {name} never published for {state} image {image_id}"
                     for name in sorted(missing)]
    by_id: dict[Any, set[str]] = {}
    for event in mine:
        event_id = event["detail"].get(EVENT_ID_FIELD)
        if event_id is None:
            problems.append(f"event {event['name']} has no {EVENT_ID_FIELD}")
            continue
        by_id.setdefault(event_id, set()).add(f"{event['name']}:{event['detail'].get('image_id')}")
    problems += [f"one {EVENT_ID_FIELD} for different events: {sorted(v)}"
                 for v in by_id.values() if len(v) > 1]
    return sorted(set(problems))


def placement(found: Records, wanted: tuple[str, ...]) -> list[str]:
    """Every active image's data is in exactly the `wanted` stores (when any are named)."""
    if not wanted:
        return []
    problems = []
    for image in found.live.values():
        held = sorted({loc.store for loc in image.locations if loc.status == "active"})
        if image.status is Status.ACTIVE and held != sorted(wanted):
            problems.append(f"image {image.id} has data in {held}, not {sorted(wanted)}")
    return problems


def check(project: str, published: list[dict[str, Any]], expected_events: dict[str, set[str]],
          wanted_stores: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """(outcome, problems) for everything the project owns."""
    found = records(project)
    problems = (statuses(found) + orphans(found) + quotas(project, found)
                + events(found, published, expected_events) + placement(found, wanted_stores))
    return outcome(found), problems
