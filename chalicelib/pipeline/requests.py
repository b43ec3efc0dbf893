"""Requests the API puts on the import queue beside S3's notifications: imports whose data
is already staged (glance-direct) and so produce no new S3 event, and web-downloads."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings

IMPORT_REQUEST = "glint:ImportRequested"
WEB_DOWNLOAD_REQUEST = "glint:WebDownloadRequested"
COPY_REQUEST = "glint:CopyRequested"
LOCATION_REQUEST = "glint:LocationAdded"


@dataclass(frozen=True, slots=True)
class WebDownloadRequest:
    """Fetch `uri` into the staging area of the image's pending upload `upload_id`."""

    image_id: str
    upload_id: str
    uri: str
    hash_algo: str | None = None
    hash_value: str | None = None


def request_import(image_id: str, key: str, client: Any = None) -> None:
    """Ask the worker to verify and activate the data staged at `key`."""
    _send({"Event": IMPORT_REQUEST, "image_id": image_id, "key": key}, client)


def request_web_download(request: WebDownloadRequest, client: Any = None) -> None:
    """Ask the worker to fetch a URI into staging (S3's event then drives the import)."""
    _send({"Event": WEB_DOWNLOAD_REQUEST, **asdict(request)}, client)


@dataclass(frozen=True, slots=True)
class CopyRequest:
    """Copy an active image's data into `stores` (copy-image, docs/stores.md)."""

    image_id: str
    stores: tuple[str, ...]
    all_stores_must_succeed: bool = True
    task_id: str | None = None


def request_copy(request: CopyRequest, client: Any = None) -> None:
    """Ask the worker to copy an image into more stores."""
    _send({"Event": COPY_REQUEST, **asdict(request)}, client)


@dataclass(frozen=True, slots=True)
class LocationRequest:
    """Hash the data at `url` (in an http store) for the queued image, check it against the
    declared hash if any, and activate the image with that location (Images API 2.17)."""

    image_id: str
    task_id: str
    store: str
    url: str
    hash_algo: str | None = None
    hash_value: str | None = None


def request_location(request: LocationRequest, client: Any = None) -> None:
    """Ask the worker to hash an added location's data and activate the image."""
    _send({"Event": LOCATION_REQUEST, **asdict(request)}, client)


def _send(body: dict[str, Any], client: Any) -> None:
    sqs = client or aws.sqs()
    url = sqs.get_queue_url(QueueName=get_settings().import_queue)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
