"""Helpers for the multi-store tests: configure stores over the provisioned bucket, make an
active image, ask for a copy and run the worker on what the queue holds."""
from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import aws
from chalicelib.config import get_settings
from tests.support import Env, call, create_image, deliver, drain, override_settings

COLD = "glint-test-cold"
COLD2 = "glint-test-cold2"
# Never created: a store whose every write fails.
MISSING = "glint-test-missing-bucket"
GOOD_STORES = {"cold": COLD, "cold2": COLD2}


def configure_stores(monkeypatch, *, broken: bool = False, weights: dict[str, int] | None = None,
                     **env: str) -> None:
    """Stores default (the image bucket), cold and cold2 (buckets created here) and, with
    `broken`, a store whose bucket does not exist."""
    weights = {"default": 100, "cold": 10, "cold2": 5, **(weights or {})}
    stores = [{"id": "default", "bucket": get_settings().bucket, "default": True,
               "weight": weights["default"], "description": "Hot"}]
    stores += [{"id": store_id, "bucket": bucket, "weight": weights[store_id]}
               for store_id, bucket in GOOD_STORES.items()]
    if broken:
        stores.append({"id": "broken", "bucket": MISSING})
    override_settings(monkeypatch, GLINT_STORES=json.dumps(stores), **env)
    for bucket in GOOD_STORES.values():
        aws.s3().create_bucket(Bucket=bucket)


def active_image(client: Client, data: bytes, project: str = "admin") -> dict[str, Any]:
    """An active image whose data is in the default store (PUT .../file, verified inline)."""
    image = create_image(client, project=project)
    response = client.http.put(f"/v2/images/{image['id']}/file", body=data, headers={
        "X-Project-Id": project, "X-Roles": "admin" if project == "admin" else "member",
        "Content-Type": "application/octet-stream"})
    assert response.status_code == 204, response.body
    return image


def request_copy(client: Client, image_id: str, **body: Any) -> tuple[int, Any]:
    """POST .../import with copy-image and the given stores fields, as an admin."""
    status, answer, _ = call(client, "POST", f"/v2/images/{image_id}/import",
                             {"method": {"name": "copy-image"}, **body})
    return status, answer


def run_worker(client: Client, env: Env) -> None:
    """Deliver everything on the import queue to the worker."""
    deliver(client, drain(env.queue_url, wait=0))


def shown(client: Client, image_id: str) -> dict[str, Any]:
    """The image as an admin sees it."""
    return call(client, "GET", f"/v2/images/{image_id}")[1]


def keys_in(bucket: str, image_id: str) -> list[str]:
    """The image-data objects of one image in one bucket."""
    listed = aws.s3().list_objects_v2(Bucket=bucket, Prefix=f"images/{image_id}/")
    return [obj["Key"] for obj in listed.get("Contents", [])]
