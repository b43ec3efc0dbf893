"""Notifications to EventBridge, named after Glance's notifications."""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.domain.image import Image, document

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
IMAGE_CREATE = "image.create"
IMAGE_UPDATE = "image.update"
IMAGE_UPLOAD = "image.upload"
IMAGE_ACTIVATE = "image.activate"
IMAGE_IMPORT_FAILURE = "image.import.failure"
IMAGE_DELETE = "image.delete"


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
