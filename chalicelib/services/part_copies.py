"""Parts of an incremental upload that are the same as the parent's range, assembled
server-side from the parent's object (UploadPartCopy), a bounded batch per call."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from chalicelib.blobs import multipart
from chalicelib.domain.blocks import PARENT_PROPERTY, block_range
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Invalid
from chalicelib.domain.uploads import GIB
from chalicelib.services import incremental
from chalicelib.services.uploads import pending_upload

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CopiedPart:
    """One part filled from the parent's bytes [start, end)."""

    part_number: int
    etag: str
    start: int
    end: int

    @property
    def size(self) -> int:
        """The part's length in bytes."""
        return self.end - self.start


# One call stays well within API Gateway's 29 s: S3 copies inside itself at hundreds of MB/s
# per request, and this many requests run at once.
MAX_PARTS_PER_CALL = 64
MAX_BYTES_PER_CALL = 2 * GIB
PARALLEL_COPIES = 8


def copy_from_parent(ctx: RequestContext, image_id: str, upload_id: str,
                     body: Any) -> tuple[CopiedPart, ...]:
    """`POST .../uploads/{upload_id}/copies`: fill the listed parts with the parent's bytes at
    the same offsets; the client lists their ETags at completion like any other part.

    Raises:
        Invalid: malformed list, too many parts or bytes for one call, or a part whose range
            reaches beyond the parent's data.
        Conflict: the upload has no parent (or is a single PUT), or the parent is no longer
            active.
        NotFound: no such upload, or the parent is no longer visible to the caller.
    """
    image, pending = pending_upload(ctx, image_id, upload_id)
    parent_id = image.properties.get(PARENT_PROPERTY)
    if not parent_id or not pending.multipart_id or not pending.part_size:
        raise Conflict(f"Upload {upload_id} has no parent image to copy parts from.")
    numbers = _parse_numbers(body, -(-pending.size // pending.part_size))
    ranges = {n: block_range(n, pending.part_size, pending.size) for n in numbers}
    if sum(end - start for start, end in ranges.values()) > MAX_BYTES_PER_CALL:
        raise Invalid(f"At most {MAX_BYTES_PER_CALL} bytes may be copied per call.")
    parent = incremental.active_parent(ctx, parent_id)
    beyond = [n for n, (_, end) in ranges.items() if end > (parent.size or 0)]
    if beyond:
        raise Invalid(f"Parts {beyond[:10]} reach beyond the parent's {parent.size} bytes; "
                      "upload them.")
    source = incremental.source_location(parent).key

    def copy(number: int) -> CopiedPart:
        etag = multipart.copy_part(pending.key, pending.multipart_id, number, source,
                                   ranges[number])
        return CopiedPart(number, etag, *ranges[number])

    with ThreadPoolExecutor(max_workers=min(PARALLEL_COPIES, len(numbers))) as pool:
        copied = tuple(pool.map(copy, numbers))
    log.info("parts copied from the parent", extra={
        "image_id": image.id, "parent_id": parent_id, "parts": len(copied),
        "bytes": sum(part.size for part in copied)})
    return copied


def _parse_numbers(body: Any, part_count: int) -> list[int]:
    raw = body.get("parts") if isinstance(body, dict) else None
    if (not isinstance(raw, list) or not raw
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in raw)):
        raise Invalid("Body must be {\"parts\": [part numbers]}.")
    if len(raw) > MAX_PARTS_PER_CALL:
        raise Invalid(f"At most {MAX_PARTS_PER_CALL} parts may be copied per call.")
    if len(set(raw)) != len(raw) or not all(1 <= n <= part_count for n in raw):
        raise Invalid(f"Part numbers must be distinct, from 1 to {part_count}.")
    return raw
