"""web-download: stream a remote URI into an image's staging key, so that the usual
ObjectCreated -> worker path verifies and activates it like any other upload."""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from chalicelib.blobs import keys, multipart
from chalicelib.config import WebDownloadSettings, get_settings
from chalicelib.domain.uploads import MAX_PARTS
from chalicelib.pipeline.fetch import ExpectedDigest, Transport, fetch, verified
from chalicelib.pipeline.fetch_policy import FetchPolicy

log = logging.getLogger(__name__)


class StagedDownload(NamedTuple):
    """Where the downloaded bytes were staged, and how many there were."""

    key: str
    size: int


def policy_from_settings(settings: WebDownloadSettings | None = None) -> FetchPolicy:
    """The deployment's fetch policy.

    Raises:
        ValueError: a trusted network is not a valid CIDR (a deployment error).
    """
    s = settings or get_settings().web_download
    return FetchPolicy(
        allowed_schemes=frozenset(s.allowed_schemes),
        allowed_ports=frozenset(s.allowed_ports),
        allowed_hosts=frozenset(h.lower().rstrip(".") for h in s.allowed_hosts),
        denied_hosts=frozenset(h.lower().rstrip(".") for h in s.denied_hosts),
        trusted_networks=tuple(ipaddress.ip_network(n) for n in s.trusted_networks),
        # The image size cap bounds every image, web-downloaded ones included.
        max_bytes=min(s.max_bytes, get_settings().image_size_cap_bytes),
        timeout_seconds=s.timeout_seconds,
    )


def download_to_staging(image_id: str, upload_id: str, uri: str, policy: FetchPolicy,
                        expected: ExpectedDigest | None = None, *,
                        on_progress: Callable[[int], None] | None = None,
                        before_complete: Callable[[int], None] | None = None,
                        transport: Transport = Transport()) -> StagedDownload:
    """Fetch `uri` into the image's staging key by multipart upload, one part in memory.
    Nothing is stored unless every byte arrived (and matched `expected`). `on_progress`
    gets the bytes so far (renew a lease there); `before_complete` gets the total after the
    last byte and before the object exists, so before its ObjectCreated event can fire:
    record the pending upload there.

    Raises:
        ImportRefused: the URI, or a redirect target, is not allowed.
        FetchFailed: HTTP or network error, too many redirects, too large, too slow.
        ImageRejected: the data does not match `expected`.
    """
    key = keys.staging_key(image_id, upload_id)
    chunks = fetch(uri, policy, transport)  # refuses a bad URI before any upload starts
    if expected is not None:
        chunks = verified(chunks, expected)
    # Large enough that a body of max_bytes fits in S3's 10,000 parts.
    part_size = max(get_settings().multipart_part_size, -(-policy.max_bytes // MAX_PARTS))
    size = multipart.upload_stream(key, _observed(chunks, on_progress, before_complete),
                                   part_size)
    log.info("web-download staged", extra={"image_id": image_id, "size": size})
    return StagedDownload(key, size)


def _observed(chunks: Iterable[bytes], on_progress: Callable[[int], None] | None,
              before_complete: Callable[[int], None] | None) -> Iterator[bytes]:
    """The chunks, reporting progress, then the total once the stream is exhausted (which
    upload_stream waits for before it completes the object)."""
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if on_progress is not None:
            on_progress(size)
        yield chunk
    if before_complete is not None:
        before_complete(size)
