"""Parsing the import queue's messages (S3 notifications and Glint's own requests) into typed
records."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus

from chalicelib.config import get_settings
from chalicelib.pipeline.requests import (COPY_REQUEST, IMPORT_REQUEST, LOCATION_REQUEST,
                                          WEB_DOWNLOAD_REQUEST, CopyRequest, LocationRequest,
                                          WebDownloadRequest)


@dataclass(frozen=True, slots=True)
class ObjectCreated:
    """One S3 ObjectCreated notification."""

    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_name: str


def parse_message(body: str) -> Iterator[ObjectCreated | WebDownloadRequest | CopyRequest
                                         | LocationRequest]:
    """The records in one SQS message body: S3's ObjectCreated records, or one of Glint's
    requests; S3's test event and other events are skipped."""
    message = json.loads(body)
    if message.get("Event") == "s3:TestEvent":  # sent when the notification is configured
        return
    if message.get("Event") == WEB_DOWNLOAD_REQUEST:
        fields = {k: message.get(k) for k in WebDownloadRequest.__dataclass_fields__}
        yield WebDownloadRequest(**fields)
        return
    if message.get("Event") == LOCATION_REQUEST:
        yield LocationRequest(**{k: message.get(k)
                                 for k in LocationRequest.__dataclass_fields__})
        return
    if message.get("Event") == COPY_REQUEST:
        yield CopyRequest(message["image_id"], tuple(message["stores"]),
                          bool(message.get("all_stores_must_succeed", True)),
                          message.get("task_id"))
        return
    if message.get("Event") == IMPORT_REQUEST:  # staged earlier; the API asks for the import
        yield ObjectCreated(bucket=get_settings().bucket, key=message["key"], size=0, etag="",
                            sequencer="", event_name=IMPORT_REQUEST)
        return
    for record in message.get("Records", []):
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        yield ObjectCreated(
            bucket=s3["bucket"]["name"],
            # Keys arrive URL-encoded (moto also encodes '/'); decode here and nowhere else.
            key=unquote_plus(obj["key"]),
            size=int(obj.get("size", 0)),
            etag=obj.get("eTag", ""),
            sequencer=obj.get("sequencer", ""),
            event_name=record["eventName"],
        )
