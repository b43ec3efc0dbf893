"""`upload_file` with a parent against a stand-in API and a loopback stand-in for S3: only the
blocks that differ from the parent's manifest are sent, the others are copied by Glint, and
an interrupted run resumes without copying or sending again what is already held."""
from __future__ import annotations

import hashlib
import io
import os
from typing import Any

import pytest

from glint_client.progress import Progress
from glint_client.resume import StateFile
from glint_client.upload import UploadFailed, upload_file
from tests.auth_fixtures import _serve
from tests.unit.test_client_upload import PART, _Api

CHANGED = {2, 5}


class _IncrementalApi(_Api):
    """The stand-in API, with a parent's manifest, server-side copies and held parts."""

    def __init__(self, s3: str, size: int, manifest: dict[str, Any]) -> None:
        super().__init__(s3, size)
        self.manifest, self.copied, self.held = manifest, [], set()

    def get_manifest(self, image_id: str) -> dict[str, Any]:
        return self.manifest

    def copy_parts(self, image_id: str, upload_id: str, numbers: list[int]) -> dict[str, Any]:
        self.copied.extend(numbers)
        self.held.update(numbers)
        return {"parts": [{"part_number": n, "size": PART, "etag": f'"copy{n}"'}
                          for n in numbers]}

    def describe_upload(self, image_id: str, upload_id: str, first_part: int) -> dict[str, Any]:
        grant = self.start_upload(image_id, self.size, PART)
        return {**grant, "uploaded_parts": [{"part_number": n, "size": PART}
                                            for n in sorted(self.held)]}


def test_interrupted_incremental_upload_resumes_without_copying_or_sending_twice(tmp_path):
    parent = os.urandom(6 * PART)
    data = bytearray(parent)
    for number in CHANGED:
        data[(number - 1) * PART] ^= 0xFF
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    manifest = {"block_size": PART, "size": len(parent), "blocks": [
        hashlib.sha256(parent[i:i + PART]).hexdigest() for i in range(0, len(parent), PART)]}
    failing, sent = {5}, []

    def s3(method: str, path: str, headers: dict, body: bytes) -> tuple:
        number = int(path.removeprefix("/p"))
        if number in failing:
            return 500, {}, None
        sent.append(number)
        api.held.add(number)
        return 200, {"ETag": f'"{path}"'}, None

    with _serve(s3) as url:
        api = _IncrementalApi(url, len(data), manifest)
        state_file = StateFile(source, tmp_path / "state")

        def run():
            # One sender: part 2 is held before part 5 fails for good.
            return upload_file(api, source, "img", state_file,  # type: ignore[arg-type]
                               concurrency=1, sleep=lambda _: None, parent="parent",
                               progress=Progress("t", len(data), stream=io.StringIO()))

        with pytest.raises(UploadFailed):
            run()
        assert (sorted(api.copied), sorted(set(sent))) == ([1, 3, 4, 6], [2])
        failing.clear()
        done = run()
    assert sorted(api.copied) == [1, 3, 4, 6] and sorted(set(sent)) == [2, 5]
    assert sent.count(2) == 1  # held since the first run
    etags, sha256 = api.completed
    assert etags == {1: '"copy1"', 2: '"/p2"', 3: '"copy3"', 4: '"copy4"', 5: '"/p5"',
                     6: '"copy6"'}
    assert sha256 == hashlib.sha256(data).hexdigest()
    # The parts copied by the first run count as reused in the run that completes.
    assert (done.parts_sent, done.parts_kept, done.bytes_reused) == (1, 5, 4 * PART)
