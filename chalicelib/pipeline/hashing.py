"""Digests of a byte stream, computed in one pass."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

OS_HASH_ALGO = "sha512"


@dataclass(frozen=True, slots=True)
class Digests:
    """What Glance records for image data, plus the sha256 a client may have declared."""

    size: int
    md5: str
    sha512: str
    sha256: str | None


def digest(chunks: Iterable[bytes], with_sha256: bool = False,
           on_progress: Callable[[int], None] | None = None,
           observers: Sequence[Callable[[bytes], None]] = ()) -> Digests:
    """md5, sha512 (and sha256 when asked) and the length of a stream, in a single pass;
    each observer (format inspection, spooling to disk) sees every chunk in the same pass."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha512 = hashlib.sha512()
    sha256 = hashlib.sha256() if with_sha256 else None
    size = 0
    for chunk in chunks:
        md5.update(chunk)
        sha512.update(chunk)
        if sha256 is not None:
            sha256.update(chunk)
        size += len(chunk)
        for observe in observers:
            observe(chunk)
        if on_progress is not None:
            on_progress(size)
    return Digests(size=size, md5=md5.hexdigest(), sha512=sha512.hexdigest(),
                   sha256=sha256.hexdigest() if sha256 is not None else None)
