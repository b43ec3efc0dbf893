"""One part's PUT in the upload client: retried with backoff, fresh URLs after a 403 (an
expired URL), and URLs renewed before they expire; against a loopback stand-in for S3. The
next page of URLs fetched ahead in the background."""
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
        etag = _send(source, _Urls(api, _state(), api.grant(), 1), answers, sleeps)
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
            _send(source, _Urls(api, _state(), api.grant(), 1), None, [])


def test_urls_close_to_expiry_are_renewed_before_use():
    api = _Api("http://127.0.0.1:9", expires_in=30)  # inside the renewal margin
    urls = _Urls(api, _state(), api.grant(), 1)
    urls.get(1)
    assert api.asked == 1
    fresh = _Api("http://127.0.0.1:9", expires_in=900)
    urls = _Urls(fresh, _state(), fresh.grant(), 1)
    urls.get(1)
    assert fresh.asked == 0


class _PagedApi:
    """Hands out URLs `page` parts at a time and notes which thread asked, from which part."""

    def __init__(self, page: int, count: int) -> None:
        self.page, self.count, self.asked = page, count, []

    def grant(self, first: int = 1) -> dict:
        expires = datetime.now(timezone.utc) + timedelta(seconds=900)
        last = min(self.count, first + self.page - 1)
        return {"expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "parts": [{"part_number": n, "url": f"http://127.0.0.1:9/p{n}", "headers": {}}
                          for n in range(first, last + 1)]}

    def describe_upload(self, image_id: str, upload_id: str, first_part: int) -> dict:
        self.asked.append((first_part, threading.current_thread()))
        return self.grant(first_part)


def _prefetched(urls: _Urls) -> None:
    deadline = time.monotonic() + 10
    while urls._prefetching and time.monotonic() < deadline:
        time.sleep(0.005)


def test_the_next_page_of_urls_is_fetched_in_the_background_before_it_is_needed(monkeypatch):
    monkeypatch.setattr("glint_client.upload.URL_LOOKAHEAD_PARTS", 3)
    api = _PagedApi(page=4, count=10)
    urls = _Urls(api, _state(), api.grant(), 10)
    urls.get(1)
    assert api.asked == []  # part 5 is more than 3 parts away
    urls.get(2)
    _prefetched(urls)
    assert [first for first, _ in api.asked] == [5]
    assert api.asked[0][1] is not threading.current_thread()
    assert urls.get(5)["url"].endswith("/p5")  # no wait: it is in hand
    assert len(api.asked) == 1
    urls.get(6)
    _prefetched(urls)
    assert [first for first, _ in api.asked] == [5, 9]
    urls.get(10)
    _prefetched(urls)
    assert len(api.asked) == 2  # nothing past the last part
