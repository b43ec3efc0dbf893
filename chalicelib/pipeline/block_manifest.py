"""The block manifest of an image, computed in the verification pass, and the saving of an
incremental upload measured against its parent's manifest."""
from __future__ import annotations

import hashlib
import logging

from chalicelib.blobs import manifests
from chalicelib.domain import blocks
from chalicelib.domain.image import Image

log = logging.getLogger(__name__)


class BlockDigester:
    """An observer fed every chunk of the data in order: the sha256 of each block."""

    def __init__(self, block_size: int) -> None:
        self.block_size = block_size
        self.digests: list[str] = []
        self.size = 0
        self._block = hashlib.sha256()
        self._filled = 0

    def observe(self, chunk: bytes) -> None:
        """Hash the next chunk, closing a block at each block boundary it crosses."""
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.block_size - self._filled)
            self._block.update(view[:take])
            self._filled += take
            self.size += take
            view = view[take:]
            if self._filled == self.block_size:
                self._close()

    def manifest(self, image_id: str, os_hash_value: str | None) -> blocks.Manifest:
        """The manifest of everything observed (the last block may be short)."""
        if self._filled or not self.digests:
            self._close()
        return blocks.Manifest(image_id, self.size, self.block_size, tuple(self.digests),
                               os_hash_value)

    def _close(self) -> None:
        self.digests.append(self._block.hexdigest())
        self._block, self._filled = hashlib.sha256(), 0


def digester_for(size: int) -> BlockDigester:
    """The observer for `size` bytes of data, at the documented block size."""
    return BlockDigester(blocks.block_size_for(size))


def store(image: Image, digester: BlockDigester, os_hash_value: str) -> dict[str, str]:
    """Store the image's manifest beside its data; returns its properties, with the bytes
    reused from its parent and sent recorded when it is an incremental image whose parent's
    manifest is still there (a deleted parent never stops the child's activation)."""
    manifest = digester.manifest(image.id, os_hash_value)
    manifests.put(manifest)
    parent_id = image.properties.get(blocks.PARENT_PROPERTY)
    parent = manifests.get(parent_id) if parent_id else None
    if parent is None:
        return dict(image.properties)
    reused = blocks.reused_bytes(parent, manifest)
    log.info("incremental image", extra={"image_id": image.id, "parent_id": parent_id,
                                         "bytes_reused": reused, "size": manifest.size})
    return blocks.with_saving(image.properties, reused, manifest.size)
