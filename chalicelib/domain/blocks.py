"""Block manifests of image data: the sha256 of each fixed-size block, for incremental uploads.

The block size is 8 MiB, or the smallest multiple of 8 MiB that keeps an image within S3's
10,000 parts, so that one block is one part of an incremental upload. Pure functions."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.uploads import MAX_PARTS, MIB

BLOCK_SIZE = 8 * MIB
ALGORITHM = "sha256"
PARENT_PROPERTY = "os_glint_parent_id"
REUSED_PROPERTY = "os_glint_bytes_reused"
UPLOADED_PROPERTY = "os_glint_bytes_uploaded"
LINEAGE_PROPERTIES = (PARENT_PROPERTY, REUSED_PROPERTY, UPLOADED_PROPERTY)


@dataclass(frozen=True, slots=True)
class Manifest:
    """The per-block digests of one image's data."""

    image_id: str
    size: int
    block_size: int
    blocks: tuple[str, ...]
    os_hash_value: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest as served (docs/incremental.md)."""
        return {"image_id": self.image_id, "size": self.size, "block_size": self.block_size,
                "algorithm": ALGORITHM, "os_hash_value": self.os_hash_value,
                "blocks": list(self.blocks)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Read a stored manifest back."""
        return cls(image_id=data["image_id"], size=int(data["size"]),
                   block_size=int(data["block_size"]), blocks=tuple(data["blocks"]),
                   os_hash_value=data.get("os_hash_value"))


def block_size_for(size: int) -> int:
    """8 MiB, grown by 8 MiB steps until `size` bytes fit in 10,000 blocks."""
    needed = -(-size // MAX_PARTS)
    return max(BLOCK_SIZE, -(-needed // BLOCK_SIZE) * BLOCK_SIZE)


def block_range(number: int, block_size: int, size: int) -> tuple[int, int]:
    """The [start, end) byte range of block `number` (from 1) of a `size`-byte object."""
    start = (number - 1) * block_size
    return start, min(start + block_size, size)


def reused_bytes(parent: Manifest, child: Manifest) -> int:
    """Bytes of `child` in blocks identical to the parent's block at the same offset."""
    if parent.block_size != child.block_size:
        return 0
    same = [n for n, (mine, theirs) in enumerate(zip(child.blocks, parent.blocks), 1)
            if mine == theirs and block_range(n, child.block_size, child.size)
            == block_range(n, parent.block_size, parent.size)]
    return sum(end - start for start, end in
               (block_range(n, child.block_size, child.size) for n in same))


def lineage(properties: Mapping[str, str], parent_id: str | None) -> dict[str, str]:
    """The image's properties with the lineage of a new upload: its parent, or none."""
    kept = {k: v for k, v in properties.items() if k not in LINEAGE_PROPERTIES}
    return {**kept, PARENT_PROPERTY: parent_id} if parent_id else kept


def with_saving(properties: Mapping[str, str], reused: int, size: int) -> dict[str, str]:
    """Record how many of the image's bytes were reused from its parent and how many sent."""
    return {**properties, REUSED_PROPERTY: str(reused), UPLOADED_PROPERTY: str(size - reused)}

