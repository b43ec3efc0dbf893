"""Notifications to EventBridge, named after Glance's notifications."""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.domain import members
from chalicelib.domain.image import Image, document, wire_time
from chalicelib.domain.tasks import Task
from chalicelib.domain.tasks import document as task_document

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
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


def publish(name: str, detail: dict[str, Any], client: Any = None) -> None:
    """Put one event on the bus. A failure is logged, never raised: the change it reports
    has already been committed and the caller must not see it fail."""
    settings = get_settings()
    entry = {"Source": settings.event_source, "DetailType": name, "EventBusName": settings.event_bus,
             "Detail": json.dumps({"version": SCHEMA_VERSION, "event": name, **detail})}
    try:
        response = (client or aws.events()).put_events(Entries=[entry])
    except Exception:  # noqa: BLE001 - the outermost boundary of a best-effort side effect
        log.exception("event not published", extra={"event": name})
        return
    if response.get("FailedEntryCount"):
        log.error("event rejected by EventBridge",
                  extra={"event": name, "entries": response.get("Entries")})


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
