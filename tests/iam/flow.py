"""The image flow over HTTP against a running runtime, for the IAM tier's tests."""
from __future__ import annotations

import hashlib
from typing import Any

import requests

from tests.iam.conftest import wait_for
from tests.support import send_parts

MIB = 1024 * 1024
ADMIN = {"X-Project-Id": "admin", "X-Roles": "admin"}
IN_FLIGHT = ("uploading", "importing", "saving")


def call(api: str, method: str, path: str, body: Any = None, **headers: str
         ) -> requests.Response:
    """One JSON request as the admin project."""
    return requests.request(method, f"{api}{path}", json=body, timeout=60,
                            headers={**ADMIN, **headers})


def create(api: str, name: str = "iam") -> str:
    response = call(api, "POST", "/v2/images", {"name": name, "disk_format": "raw",
                                               "container_format": "bare"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def image(api: str, image_id: str) -> dict[str, Any]:
    return call(api, "GET", f"/v2/images/{image_id}").json()


def settled(api: str, image_id: str, seconds: float = 40) -> dict[str, Any]:
    """The image once no import is in flight (or as it is when time is up)."""
    def done() -> dict[str, Any] | None:
        shown = image(api, image_id)
        return None if shown["status"] in IN_FLIGHT else shown
    return wait_for(done, seconds) or image(api, image_id)


def presigned_upload(api: str, image_id: str, data: bytes) -> None:
    grant = call(api, "POST", f"/v2/images/{image_id}/uploads", {"size": len(data)})
    assert grant.status_code == 201, grant.text
    put = requests.put(grant.json()["url"], data=data, headers=grant.json()["headers"],
                       timeout=60)
    assert put.status_code == 200, put.text


def multipart_upload(api: str, image_id: str, data: bytes, part: int) -> None:
    grant = call(api, "POST", f"/v2/images/{image_id}/uploads",
                 {"size": len(data), "multipart": True, "part_size": part}).json()
    done = call(api, "POST", grant["complete"], {"parts": send_parts(grant, data)})
    assert done.status_code == 202, done.text


def put_file(api: str, image_id: str, data: bytes, what: str = "file") -> requests.Response:
    return requests.put(f"{api}/v2/images/{image_id}/{what}", data=data, timeout=60,
                        headers={**ADMIN, "Content-Type": "application/octet-stream"})


def assert_active_with(api: str, image_id: str, data: bytes) -> dict[str, Any]:
    shown = settled(api, image_id)
    assert shown["status"] == "active", shown.get("os_glint_import_error", shown)
    assert shown["size"] == len(data)
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    return shown


def download(api: str, image_id: str) -> bytes:
    response = requests.get(f"{api}/v2/images/{image_id}/file", headers=ADMIN, timeout=60)
    assert response.status_code == 200, response.text
    return response.content
