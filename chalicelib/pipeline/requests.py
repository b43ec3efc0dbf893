"""Import requests: messages the API puts on the import queue beside S3's notifications, for
imports whose data is already staged (glance-direct) and so produce no new S3 event."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings

IMPORT_REQUEST = "glint:ImportRequested"


def request_import(image_id: str, key: str, client: Any = None) -> None:
    """Ask the worker to verify and activate the data staged at `key`."""
    sqs = client or aws.sqs()
    url = sqs.get_queue_url(QueueName=get_settings().import_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(
        {"Event": IMPORT_REQUEST, "image_id": image_id, "key": key}))
