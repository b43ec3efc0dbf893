"""A whole `upload_file` run against a stand-in API and a loopback stand-in for S3: exactly
`concurrency` parts in flight (the hasher is not one of the senders), every byte sent once in
its part, and the declared sha256 that of the file."""
from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from glint_client.progress import Progress
from glint_client.resume import StateFile
from glint_client.upload import upload_file
from tests.auth_fixtures import _serve

PART = 1000


class _Api:
    """The direct-upload calls upload_file makes, answered from memory."""

    base = "http://api.invalid"

    def __init__(self, s3: str, size: int) -> None:
        self.s3, self.size, self.completed = s3, size, None

    def start_upload(self, image_id: str, size: int, part_size: int | None,
                     parent: str | None = None) -> dict[str, Any]:
        expires = datetime.now(timezone.utc) + timedelta(seconds=900)
        count = -(-size // PART)
        return {"upload_id": "u1", "part_size": PART, "uploaded_parts": [],
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "parts": [{"part_number": n, "url": f"{self.s3}/p{n}", "headers": {}}
                          for n in range(1, count + 1)]}

    def complete_upload(self, image_id: str, upload_id: str, etags: dict[int, str],
                        sha256: str) -> dict[str, Any]:
        self.completed = (etags, sha256)
        return {}


def test_exactly_concurrency_parts_are_in_flight_and_the_sha256_is_the_files(tmp_path):
    data = os.urandom(6 * PART)
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    lock = threading.Lock()
    in_flight, peak, bodies = [0], [0], {}

    def s3(method: str, path: str, headers: dict, body: bytes) -> tuple:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.2)  # long enough for every sender to have a part out
        with lock:
            in_flight[0] -= 1
            bodies[int(path.removeprefix("/p"))] = body
        return 200, {"ETag": f'"{path}"'}, None

    with _serve(s3) as url:
        api = _Api(url, len(data))
        state_file = StateFile(source, tmp_path / "state")
        sent = upload_file(api, source, "img", state_file, concurrency=2,  # type: ignore[arg-type]
                           progress=Progress("t", len(data), stream=io.StringIO()))
    assert peak[0] == 2
    assert b"".join(bodies[n] for n in sorted(bodies)) == data
    etags, sha256 = api.completed
    assert etags == {n: f'"/p{n}"' for n in range(1, 7)}
    assert sha256 == sent.sha256 == hashlib.sha256(data).hexdigest()
    assert (sent.parts_sent, sent.bytes_sent) == (6, len(data))
    assert not state_file.path.exists()  # nothing left to resume
