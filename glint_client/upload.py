"""Parallel, resumable multipart upload of one file into an image's direct-upload grant.

Parts stream from the file into their presigned URLs from a pool of threads (one kept-alive
connection each; `transfer` says how the bytes go, memory bounded whatever the size). The
sha256 declared at completion is read in order a little ahead of them (`hashing` says how);
the worker checks it against what S3 holds, so bytes that changed while they were being sent,
or since an earlier attempt sent them, are rejected there. A resumed upload is refused at
once when the file's size or modification time differ from the interrupted attempt's (as
rsync judges a file unchanged)."""
from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from glint_client import hashing, incremental, transfer
from glint_client.api import ApiError, ImageApi
from glint_client.errors import SourceChanged, UploadFailed
from glint_client.progress import Progress
from glint_client.resume import StateFile, UploadState

RETRIES = 5
# Fresh URLs are asked for this long before the ones in hand expire.
URL_MARGIN_SECONDS = 60
# The next page of part URLs is asked for (in the background) this many parts before the
# senders reach its first part.
URL_LOOKAHEAD_PARTS = 32


@dataclass(frozen=True, slots=True)
class Sent:
    """What an upload run did."""

    image_id: str
    upload_id: str
    sha256: str
    parts_sent: int
    parts_kept: int
    bytes_sent: int
    # Bytes equal to the parent's, which Glint copied from it (in this run or an interrupted
    # one) instead of receiving them.
    bytes_reused: int = 0


def upload_file(api: ImageApi, source: Path, image_id: str, state_file: StateFile,
                concurrency: int = 4, part_size: int | None = None,
                progress: Progress | None = None,
                sleep: Callable[[float], None] = time.sleep, parent: str | None = None,
                sha256_ahead: hashing.Sha256Ahead | None = None) -> Sent:
    """Send `source` as the data of `image_id`, resuming the upload in `state_file` if there
    is one for this image, and complete it. With a `parent` (an active raw image), the blocks
    equal to the parent's are copied from it by Glint and only the others are sent. The file's
    sha256 is taken from `sha256_ahead` when the caller started it early.

    Raises:
        SourceChanged: the file differs from what the interrupted upload sent.
        UploadFailed: a part failed every retry (run again to resume).
        ApiError: the API refused (image not queued, quota, ...).
    """
    stat = source.stat()
    size = stat.st_size
    manifest = api.get_manifest(parent) if parent else None
    state, grant = _resume_or_start(api, source, stat, image_id, state_file,
                                    manifest["block_size"] if manifest else part_size, parent)
    sizes = _part_sizes(size, state.part_size)
    held = {p["part_number"]: p["size"] for p in grant.get("uploaded_parts", [])}
    kept = {n for n in state.parts if held.get(n) == sizes[n - 1]}
    todo = [n for n in range(1, len(sizes) + 1) if n not in kept]
    progress = progress or Progress("upload", size)
    progress.add(sum(sizes[n - 1] for n in kept))
    stop = threading.Event()
    sha256, same = None, frozenset[int]()
    if manifest and manifest["block_size"] == state.part_size:
        found = incremental.diff_against(source, manifest, stop)
        sha256, same = found.sha256, found.same
        reused = [n for n in todo if n in same]
        copied = incremental.copy_from_parent(api, state.image_id, state.upload_id, reused,
                                              state.part_size)
        for number, etag in copied.items():
            state_file.record_part(state, number, etag)
        progress.add(sum(sizes[n - 1] for n in reused))
        todo = [n for n in todo if n not in same]
    urls = _Urls(api, state, grant, len(sizes))
    hasher = _hasher(source, sha256_ahead, sha256)
    # Sending part n, the senders have started (or kept) every byte before the next part due.
    starts = [(n - 1) * state.part_size for n in todo] + [size]
    following = dict(zip(todo, starts[1:]))
    if hasher:
        hasher.advance(starts[0])

    def send(number: int) -> None:
        if hasher:
            hasher.advance(following[number])
        etag = _send_part(source, number, state.part_size, sizes[number - 1], urls, progress,
                          stop, sleep)
        state_file.record_part(state, number, etag)

    # The hasher has a thread of its own: senders stay exactly `concurrency`.
    with ThreadPoolExecutor(1) as digesting, ThreadPoolExecutor(concurrency) as senders:
        digest = digesting.submit(hasher.hexdigest if hasher else lambda: sha256)
        futures = [senders.submit(send, n) for n in todo]
        try:
            done, _ = wait([digest, *futures], return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception():
                    raise future.exception()  # type: ignore[misc]
        except BaseException:
            stop.set()  # the other threads end at their next block
            if hasher:
                hasher.stop()
            raise
    sha256 = digest.result()
    api.complete_upload(state.image_id, state.upload_id, state.parts, sha256)
    state_file.remove()
    progress.finish()
    return Sent(state.image_id, state.upload_id, sha256, len(todo), len(kept),
                sum(sizes[n - 1] for n in todo), sum(sizes[n - 1] for n in same))


def _hasher(source: Path, started: hashing.Sha256Ahead | None,
            sha256: str | None) -> hashing.Sha256Ahead | None:
    """What computes the sha256: none when the diff against the parent already read the whole
    file in order, else the caller's if it started one. (A file changed since is the worker's
    to reject: the digest then differs from what S3 holds.)"""
    if sha256:
        if started:
            started.stop()
        return None
    return started or hashing.start(source)


def _resume_or_start(api: ImageApi, source: Path, stat: os.stat_result, image_id: str,
                     state_file: StateFile, part_size: int | None, parent: str | None
                     ) -> tuple[UploadState, dict[str, Any]]:
    state = state_file.load()
    if state and state.image_id == image_id and state.endpoint == api.base:
        if (state.size, state.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            raise SourceChanged(f"{source} changed since the interrupted upload (size or "
                                "modification time); start again with --fresh.")
        try:
            return state, api.describe_upload(image_id, state.upload_id, 1)
        except ApiError as exc:
            if exc.status != 404:  # 404: superseded, failed or completed; start afresh
                raise
    grant = api.start_upload(image_id, stat.st_size, part_size, parent)
    state = UploadState(source=str(source.resolve()), size=stat.st_size,
                        mtime_ns=stat.st_mtime_ns, endpoint=api.base, image_id=image_id,
                        upload_id=grant["upload_id"], part_size=grant["part_size"])
    state_file.save(state)
    return state, grant


def _part_sizes(size: int, part_size: int) -> list[int]:
    full, rest = divmod(size, part_size)
    return [part_size] * full + ([rest] if rest or not full else [])


class _Urls:
    """Presigned part URLs, fetched a page at a time and refreshed before they expire; the
    next page is fetched in the background before the senders need it."""

    def __init__(self, api: ImageApi, state: UploadState, grant: dict[str, Any],
                 part_count: int) -> None:
        self.api, self.state, self.part_count = api, state, part_count
        self._lock = threading.Lock()
        self._urls: dict[int, dict[str, Any]] = {}
        self._expires: dict[int, float] = {}
        self._prefetching = False
        self._take(grant)

    def get(self, number: int, refresh: bool = False) -> dict[str, Any]:
        """The URL and headers for part `number`."""
        with self._lock:
            stale = self._expires.get(number, 0) - URL_MARGIN_SECONDS < time.time()
            if refresh or stale or number not in self._urls:
                self._take(self._describe(number))
            following = max(self._urls, default=0) + 1
            if (following <= min(self.part_count, number + URL_LOOKAHEAD_PARTS)
                    and not self._prefetching):
                self._prefetching = True
                threading.Thread(target=self._prefetch, args=(following,), daemon=True).start()
            return self._urls[number]

    def _describe(self, first: int) -> dict[str, Any]:
        return self.api.describe_upload(self.state.image_id, self.state.upload_id, first)

    def _prefetch(self, first: int) -> None:
        try:
            grant = self._describe(first)
        except (ApiError, requests.RequestException):
            grant = None  # get() asks again, in the open, when the part comes up
        with self._lock:
            if grant:
                self._take(grant)
            self._prefetching = False

    def _take(self, grant: dict[str, Any]) -> None:
        until = datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")).timestamp()
        for part in grant.get("parts", []):
            self._urls[part["part_number"]] = part
            self._expires[part["part_number"]] = until


def _send_part(source: Path, number: int, part_size: int, length: int, urls: _Urls,
               progress: Progress, stop: threading.Event,
               sleep: Callable[[float], None]) -> str:
    """PUT one part, retrying with backoff; returns S3's ETag."""
    sent = 0

    def count(step: int) -> None:
        nonlocal sent
        sent += step
        progress.add(step)
        if stop.is_set():
            raise UploadFailed("stopped")

    with open(source, "rb", buffering=0) as file:
        refresh = False
        for attempt in range(RETRIES):
            if stop.is_set():
                raise UploadFailed("stopped")
            target = urls.get(number, refresh)
            try:
                answer = transfer.put_range(target["url"], target["headers"], file,
                                            (number - 1) * part_size, length, count)
            except OSError as exc:
                error = f"part {number}: {exc}"
            except EOFError as exc:
                raise UploadFailed(f"{source}: {exc}") from exc
            else:
                if answer.status == 200:
                    return answer.headers["ETag"]
                error = f"part {number}: S3 answered {answer.status} {answer.text[:200]}"
                refresh = answer.status == 403  # expired or superseded URL
            progress.add(-sent)
            sent = 0
            if stop.is_set():
                break
            sleep(min(30.0, 0.5 * 2 ** attempt) * (0.5 + random.random()))
        raise UploadFailed(f"{error}; run the command again to resume.")


def wait_until_settled(api: ImageApi, image_id: str, timeout: float,
                       sleep: Callable[[float], None] = time.sleep,
                       on_status: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Follow the image until it is `active` or back in `queued` (rejected); the last image
    shown is returned, whatever its status, when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        image = api.get_image(image_id)
        if image["status"] != last:
            on_status(image["status"])
            last = image["status"]
        if image["status"] in ("active", "queued", "killed") or time.monotonic() > deadline:
            return image
        sleep(1.0)

