"""Notifications to EventBridge, named after Glance's notifications, each with a stable id;
through the outbox (db.outbox) for the changes that must never lose their event."""
from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.db import outbox as outbox_db
from chalicelib.domain import members
from chalicelib.domain.image import Image, document, utcnow, wire_time
from chalicelib.domain.tasks import Task
from chalicelib.domain.tasks import document as task_document

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Every event's detail carries its id: the same for every publication of one event (the
# outbox publishes at least once), so consumers can drop repeats.
EVENT_ID = "event_id"
IMAGE_CREATE = "image.create"
IMAGE_UPDATE = "image.update"
IMAGE_UPLOAD = "image.upload"
IMAGE_ACTIVATE = "image.activate"
IMAGE_IMPORT_FAILURE = "image.import.failure"
IMAGE_DELETE = "image.delete"
IMAGE_RESTORE = "image.restore"  # a pending_delete image restored by an admin
IMAGE_PURGE = "image.purge"  # a pending_delete image's data scrubbed for good
# Metadefs notification families; the action follows a dot (`metadef_tag.create`), as in Glance.
METADEF_NAMESPACE = "metadef_namespace"
METADEF_OBJECT = "metadef_object"
METADEF_PROPERTY = "metadef_property"
METADEF_TAG = "metadef_tag"
METADEF_RESOURCE_TYPE = "metadef_resource_type"
IMAGE_DEACTIVATE = "image.deactivate"
IMAGE_REACTIVATE = "image.reactivate"
IMAGE_MEMBER_CREATE = "image.member.create"
IMAGE_MEMBER_UPDATE = "image.member.update"
IMAGE_MEMBER_DELETE = "image.member.delete"
# Task notifications, as Glance's notifier names them (task.create, then one per status).
TASK_CREATE = "task.create"
TASK_PROCESSING = "task.processing"
TASK_SUCCESS = "task.success"
TASK_FAILURE = "task.failure"


def entry(name: str, detail: dict[str, Any]) -> outbox_db.Entry:
    """An event with a fresh id, ready to be recorded in the outbox with the change it
    reports (db.along) and published after it (`flush`)."""
    event_id = uuid.uuid4().hex
    return outbox_db.Entry(event_id, name, {"version": SCHEMA_VERSION, "event": name,
                                            EVENT_ID: event_id, **detail}, utcnow())


def image_entry(name: str, image: Image, **extra: Any) -> outbox_db.Entry:
    """`entry` for an image event whose payload is the image as the API shows it."""
    return entry(name, {"image_id": image.id, "owner": image.owner, "image": document(image),
                        **extra})


def flush(entries: Iterable[outbox_db.Entry], client: Any = None) -> None:
    """Publish outbox entries whose change is committed, removing each once EventBridge
    accepted it; one that fails stays for the reaper (`republish`)."""
    for waiting in entries:
        if send(waiting, client):
            outbox_db.remove(waiting.event_id)


def republish(recorded_before: str, client: Any = None) -> int:
    """Publish the outbox entries a crash left behind (recorded before `recorded_before`);
    returns how many were published. They keep their ids: consumers drop repeats."""
    published = 0
    for waiting in outbox_db.waiting(recorded_before):
        if send(waiting, client):
            outbox_db.remove(waiting.event_id)
            published += 1
    return published


def publish(name: str, detail: dict[str, Any], client: Any = None) -> None:
    """Put one event on the bus now, without the outbox (for changes whose loss of an event
    is tolerable). A failure is logged, never raised: the change it reports has already been
    committed and the caller must not see it fail."""
    send(entry(name, detail), client)


def send(event: outbox_db.Entry, client: Any = None) -> bool:
    """Put one event on the bus; True if EventBridge accepted it (a failure is logged)."""
    settings = get_settings()
    sent = {"Source": settings.event_source, "DetailType": event.name,
            "EventBusName": settings.event_bus, "Detail": json.dumps(event.detail)}
    try:
        response = (client or aws.events()).put_events(Entries=[sent])
    except Exception:  # noqa: BLE001 - the outermost boundary of a side effect
        log.exception("event not published", extra={"event": event.name})
        return False
    if response.get("FailedEntryCount"):
        log.error("event rejected by EventBridge",
                  extra={"event": event.name, "entries": response.get("Entries")})
        return False
    return True


def publish_image(name: str, image: Image, **extra: Any) -> None:
    """Publish an image event whose payload is the image as the API shows it."""
    publish(name, {"image_id": image.id, "owner": image.owner, "image": document(image), **extra})


def publish_member(name: str, member: members.Member, owner: str,
                   deleted_at: str | None = None) -> None:
    """Publish a member event; `member` is Glance's image-member notification payload."""
    payload = {**members.document(member), "deleted": deleted_at is not None,
               "deleted_at": wire_time(deleted_at) if deleted_at else None}
    publish(name, {"image_id": member.image_id, "owner": owner, "member_id": member.member_id,
                   "member": payload})


def publish_task(name: str, task: Task) -> None:
    """Publish a task event whose payload is the task as `GET /v2/tasks/{id}` shows it."""
    publish(name, {"task_id": task.id, "image_id": task.image_id, "owner": task.owner,
                   "task": task_document(task)})
