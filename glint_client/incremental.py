"""Incremental uploads: which blocks of a local file equal the parent image's (read from its
block manifest, never from its data), and having Glint copy those from the parent server-side
instead of sending them."""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glint_client.api import ImageApi

# What the API copies per call at most (docs/incremental.md).
MAX_PARTS_PER_CALL = 64
MAX_BYTES_PER_CALL = 2 * 1024 ** 3
_READ = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Diff:
    """The file's sha256, and the numbers of its blocks equal to the parent's at that offset."""

    sha256: str
    same: frozenset[int]


def diff_against(source: Path, manifest: dict[str, Any], stop: threading.Event) -> Diff:
    """Read the file once, in order: its sha256 and each block's, compared with the
    manifest's (a block counts as the same only when it also has the same length)."""
    block_size, parent_size = manifest["block_size"], manifest["size"]
    parent_blocks = manifest["blocks"]
    whole = hashlib.sha256()
    same: set[int] = set()
    number = 0
    with open(source, "rb") as file:
        while not stop.is_set():
            block, length = hashlib.sha256(), 0
            while length < block_size and (data := file.read(min(_READ, block_size - length))):
                block.update(data)
                whole.update(data)
                length += len(data)
            if not length:
                break
            number += 1
            parent_length = min(block_size, parent_size - (number - 1) * block_size)
            if (number <= len(parent_blocks) and length == parent_length
                    and block.hexdigest() == parent_blocks[number - 1]):
                same.add(number)
    return Diff(whole.hexdigest(), frozenset(same))


def copy_from_parent(api: ImageApi, image_id: str, upload_id: str, numbers: list[int],
                     part_size: int) -> dict[int, str]:
    """Have Glint fill these parts from the parent, in batches the API accepts; part number
    -> ETag."""
    per_call = max(1, min(MAX_PARTS_PER_CALL, MAX_BYTES_PER_CALL // part_size))
    etags: dict[int, str] = {}
    for first in range(0, len(numbers), per_call):
        answer = api.copy_parts(image_id, upload_id, numbers[first:first + per_call])
        etags.update({part["part_number"]: part["etag"] for part in answer["parts"]})
    return etags
