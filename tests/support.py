"""Helpers for tests: identity headers, JSON calls through Chalice's client, presigned uploads,
queue draining."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from chalice.test import Client

from chalicelib import aws
from chalicelib.config import get_settings
from glint_local.provision import Provisioned
from glint_local.pump import sqs_event

PATCH = "application/openstack-images-v2.1-json-patch"


@dataclass
class Env:
    """The provisioned resources of one test."""

    resources: Provisioned

    @property
    def queue_url(self) -> str:
        return self.resources.queue_urls[get_settings().import_queue]


def headers(project: str = "admin", roles: str = "admin", **extra: str) -> dict[str, str]:
    """noauth identity headers (as Glance's noauth middleware reads them)."""
    return {"X-Project-Id": project, "X-Roles": roles, "Content-Type": "application/json", **extra}


def call(client: Client, method: str, path: str, body: Any = None, project: str = "admin",
         roles: str = "admin", content_type: str = "application/json") -> tuple[int, Any, dict]:
    """One request; returns (status, parsed JSON body or None, headers)."""
    h = headers(project, roles)
    h["Content-Type"] = content_type
    payload = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
    response = client.http.request(method, path, headers=h, body=payload or b"")
    parsed = json.loads(response.body) if response.body else None
    return response.status_code, parsed, dict(response.headers)


def create_image(client: Client, project: str = "admin", **fields: Any) -> dict[str, Any]:
    """A queued raw/bare image owned by `project`."""
    body = {"name": "test", "disk_format": "raw", "container_format": "bare", **fields}
    status, image, _ = call(client, "POST", "/v2/images", body, project=project,
                            roles="member" if project != "admin" else "admin")
    assert status == 201, image
    return image


def upload_single(client: Client, image_id: str, data: bytes, **declared: Any) -> dict[str, Any]:
    """Ask for a single presigned PUT and send `data` with it over real HTTP (moto's server)."""
    status, grant, _ = call(client, "POST", f"/v2/images/{image_id}/uploads",
                            {"size": len(data), **declared})
    assert status == 201, grant
    assert grant["type"] == "single"
    response = requests.put(grant["url"], data=data, headers=grant["headers"], timeout=30)
    assert response.status_code == 200, response.text
    return grant


def send_parts(grant: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """PUT each part of a multipart grant's presigned URLs over HTTP; the completion's parts."""
    parts = []
    with requests.Session() as s3:
        for part in grant["parts"]:
            start = (part["part_number"] - 1) * grant["part_size"]
            response = s3.put(part["url"], data=data[start:start + part["size"]],
                              headers=part["headers"], timeout=60)
            assert response.status_code == 200, response.text
            parts.append({"part_number": part["part_number"], "etag": response.headers["ETag"]})
    return parts


def keys(prefix: str = "") -> list[str]:
    """The keys under `prefix` in the image bucket."""
    listed = aws.s3().list_objects_v2(Bucket=get_settings().bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def drain(queue_url: str, wait: int = 2) -> list[dict[str, Any]]:
    """Every S3 notification message waiting on the queue (s3:TestEvent dropped)."""
    sqs = aws.sqs()
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=wait, AttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if "s3:TestEvent" not in message["Body"]:
                messages.append(message)
        wait = 0


def deliver(client: Client, messages: list[dict[str, Any]]) -> None:
    """Invoke the import worker with the messages moto delivered, one per invocation."""
    for message in messages:
        event = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:imports",
                          get_settings().region)
        client.lambda_.invoke("import_worker", event)


def override_settings(monkeypatch, **env: str) -> None:
    """Change settings for one test. They are read once per process, so read them now:
    Chalice's test client re-applies the stage's environment inside every request."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    aws.reset()
    get_settings()
