"""The calls the client makes to the image API (Glance's v2 plus Glint's direct upload)."""
from __future__ import annotations

from typing import Any

import requests

from glint_client.settings import Connection

TIMEOUT = 60


class ApiError(Exception):
    """The API answered with an error; the message is Glance's explanation."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class ImageApi:
    """One connection's calls; every answer is the decoded JSON body."""

    def __init__(self, connection: Connection, session: requests.Session | None = None) -> None:
        self.base = connection.endpoint
        self.session = session or requests.Session()
        if connection.token:
            self.session.headers["X-Auth-Token"] = connection.token

    def create_image(self, fields: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/images."""
        return self._call("POST", "/v2/images", json=fields)

    def get_image(self, image_id: str) -> dict[str, Any]:
        """GET /v2/images/{id}."""
        return self._call("GET", f"/v2/images/{image_id}")

    def start_upload(self, image_id: str, size: int, part_size: int | None) -> dict[str, Any]:
        """A multipart grant for `size` bytes (the image becomes `uploading`)."""
        body: dict[str, Any] = {"size": size, "multipart": True}
        if part_size:
            body["part_size"] = part_size
        return self._call("POST", f"/v2/images/{image_id}/uploads", json=body)

    def describe_upload(self, image_id: str, upload_id: str, first_part: int) -> dict[str, Any]:
        """Fresh part URLs from `first_part`, and the parts S3 already holds."""
        return self._call("GET", f"/v2/images/{image_id}/uploads/{upload_id}",
                          params={"first_part": first_part})

    def complete_upload(self, image_id: str, upload_id: str, etags: dict[int, str],
                        sha256: str) -> dict[str, Any]:
        """Join the parts, declaring the sha256 of the whole data for the worker to check."""
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        return self._call("POST", f"/v2/images/{image_id}/uploads/{upload_id}/complete",
                          json={"parts": parts, "sha256": sha256})

    def open_download(self, image_id: str) -> requests.Response:
        """The image's data as a stream (the API redirects to a presigned GET)."""
        response = self.session.get(f"{self.base}/v2/images/{image_id}/file", stream=True,
                                    timeout=TIMEOUT)
        if response.status_code != 200:
            raise ApiError(response.status_code, _message(response))
        return response

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, f"{self.base}{path}", timeout=TIMEOUT, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _message(response))
        return response.json() if response.content else {}


def _message(response: requests.Response) -> str:
    """Glance nests its explanation as {"error": {"message": ...}}; fall back to the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(body)[:300]
