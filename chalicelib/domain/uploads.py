"""Direct-to-bucket uploads: what a client may ask for, and how it is split into parts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Invalid, QuotaExceeded

MIB = 1024 * 1024
GIB = 1024 * MIB
# S3's multipart limits.
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * GIB
MAX_PARTS = 10_000
MAX_SINGLE_PUT = 5 * GIB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """A client's request for upload URLs: the size it will send, optionally its sha256."""

    size: int
    sha256: str | None = None
    multipart: bool | None = None
    part_size: int | None = None


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """How the bytes go up: one PUT (part_sizes empty) or these parts in order."""

    part_size: int | None
    part_sizes: tuple[int, ...]

    @property
    def multipart(self) -> bool:
        """True when the upload is split into parts."""
        return bool(self.part_sizes)


def parse_upload_request(body: Any) -> UploadRequest:
    """Validate the body of a request for upload URLs.

    Raises:
        Invalid: a field is missing, of the wrong type or out of range.
    """
    if not isinstance(body, dict):
        raise Invalid("Request body must be a JSON object.")
    unknown = set(body) - {"size", "sha256", "multipart", "part_size"}
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    size = body.get("size")
    if not _is_int(size) or size <= 0:
        raise Invalid("'size' is required: the number of bytes to upload, a positive integer.")
    sha256 = parse_sha256(body.get("sha256"))
    multipart = body.get("multipart")
    if multipart is not None and not isinstance(multipart, bool):
        raise Invalid("'multipart' must be true or false.")
    part_size = body.get("part_size")
    if part_size is not None and (not _is_int(part_size)
                                  or not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE):
        raise Invalid(f"'part_size' must be an integer from {MIN_PART_SIZE} to {MAX_PART_SIZE}.")
    return UploadRequest(size=size, sha256=sha256, multipart=multipart, part_size=part_size)


def parse_sha256(value: Any) -> str | None:
    """A declared sha256 in lower case, or None when none was declared.

    Raises:
        Invalid: not 64 hexadecimal digits.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value.lower()):
        raise Invalid("'sha256' must be 64 hexadecimal digits.")
    return value.lower()


def plan_upload(request: UploadRequest, single_max: int, default_part_size: int) -> UploadPlan:
    """Choose single PUT or multipart, and the part sizes (S3: 5 MiB-5 GiB, at most 10,000).

    Raises:
        QuotaExceeded: a single PUT was asked for above the single-upload limit, or the
            size cannot fit in 10,000 parts of at most 5 GiB.
    """
    single_limit = min(single_max, MAX_SINGLE_PUT)
    multipart = request.multipart if request.multipart is not None else request.size > single_limit
    if not multipart:
        if request.size > single_limit:
            raise QuotaExceeded(f"A single upload is limited to {single_limit} bytes; "
                                "ask for a multipart upload.")
        return UploadPlan(part_size=None, part_sizes=())
    part_size = request.part_size or default_part_size
    part_size = max(part_size, -(-request.size // MAX_PARTS), MIN_PART_SIZE)
    if part_size > MAX_PART_SIZE:
        raise QuotaExceeded(f"{request.size} bytes do not fit in {MAX_PARTS} parts of at most "
                            f"{MAX_PART_SIZE} bytes.")
    return UploadPlan(part_size=part_size, part_sizes=split_into_parts(request.size, part_size))


def split_into_parts(size: int, part_size: int) -> tuple[int, ...]:
    """Sizes of the parts of a `size`-byte upload in `part_size` pieces (the last may be short)."""
    full, rest = divmod(size, part_size)
    return (part_size,) * full + ((rest,) if rest else ())


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
