"""Parsing S3 notifications (as delivered through SQS) into typed records."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_plus


@dataclass(frozen=True, slots=True)
class ObjectCreated:
    """One S3 ObjectCreated notification."""

    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_name: str


def parse_s3_notification(body: str) -> Iterator[ObjectCreated]:
    """The ObjectCreated records in one SQS message body; test events and others skipped."""
    message = json.loads(body)
    if message.get("Event") == "s3:TestEvent":  # sent when the notification is configured
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
