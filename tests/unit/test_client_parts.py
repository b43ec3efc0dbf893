"""One part's PUT in the upload client: retried with backoff, fresh URLs after a 403 (an
expired URL), and URLs renewed before they expire; against a loopback stand-in for S3."""
from __future__ import annotations

import io
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from glint_client.progress import Progress
from glint_client.resume import UploadState
from glint_client.upload import UploadFailed, _send_part, _Urls
from tests.auth_fixtures import _serve


class _Api:
    """Hands out a URL per part, with an expiry; counts how often it was asked."""

    def __init__(self, url: str, expires_in: float) -> None:
        self.url, self.expires_in, self.asked = url, expires_in, 0

    def grant(self, first: int = 1) -> dict:
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.expires_in)
        return {"expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "parts": [{"part_number": first, "url": f"{self.url}/p{first}?v={self.asked}",
                           "headers": {}}]}

    def describe_upload(self, image_id: str, upload_id: str, first_part: int) -> dict:
        self.asked += 1
        return self.grant(first_part)


def _state() -> UploadState:
    return UploadState("f", 4, 0, "http://h", "img", "up", 4)


def _send(source, urls, answers, sleeps):
    return _send_part(source, 1, 4, 4, urls, Progress("t", 4, stream=io.StringIO()),
                      threading.Event(), sleeps.append)


def test_a_403_fetches_fresh_urls_and_errors_are_retried_with_backoff(tmp_path):
    source = tmp_path / "f"
    source.write_bytes(b"data")
    answers = iter([(403, {}, None), (500, {}, None), (200, {"ETag": '"e"'}, None)])
    seen = []

    def s3(method, path, headers, body):
        seen.append((method, path, body))
        return next(answers)

    with _serve(s3) as url:
        api = _Api(url, expires_in=900)
        sleeps: list[float] = []
        etag = _send(source, _Urls(api, _state(), api.grant()), answers, sleeps)
    assert etag == '"e"'
    assert [p for _, p, _ in seen] == ["/p1?v=0", "/p1?v=1", "/p1?v=1"]  # fresh after the 403
    assert all(body == b"data" for _, _, body in seen)
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] / 3  # backoff between attempts


def test_a_part_that_keeps_failing_stops_with_a_resumable_error(tmp_path):
    source = tmp_path / "f"
    source.write_bytes(b"data")
    with _serve(lambda *_: (503, {}, None)) as url:
        api = _Api(url, expires_in=900)
        with pytest.raises(UploadFailed, match="run the command again to resume"):
            _send(source, _Urls(api, _state(), api.grant()), None, [])


def test_urls_close_to_expiry_are_renewed_before_use():
    api = _Api("http://127.0.0.1:9", expires_in=30)  # inside the renewal margin
    urls = _Urls(api, _state(), api.grant())
    urls.get(1)
    assert api.asked == 1
    fresh = _Api("http://127.0.0.1:9", expires_in=900)
    urls = _Urls(fresh, _state(), fresh.grant())
    urls.get(1)
    assert fresh.asked == 0
