"""Converted copies of an image ("variants"), when the deployment asks for formats.

During the hashing pass the staged bytes are spooled into the function's temporary storage;
after inspection each wanted format is made with qemu-img, hashed, uploaded as its own
object and described by its own Location (the original stays the image's own data)."""
from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from chalicelib import metrics, tracing
from chalicelib.blobs import keys, objects
from chalicelib.config import get_settings
from chalicelib.domain.image import Image, Location
from chalicelib.pipeline import convert
from chalicelib.pipeline.hashing import digest
from chalicelib.pipeline.inspect import Inspection

Progress = Callable[[int], None]


class Spool:
    """The staged bytes on local disk while they stream past (only when converting)."""

    def __init__(self, file: BinaryIO | None) -> None:
        self._file = file

    @property
    def observers(self) -> tuple[Callable[[bytes], None], ...]:
        """What the hashing pass calls with each chunk: a write to disk, or nothing."""
        return () if self._file is None else (self._file.write,)

    def convert(self, image: Image, upload_id: str, inspection: Inspection, store: str,
                on_progress: Progress) -> tuple[Location, ...]:
        """Make, upload and describe each configured variant of the spooled original.

        Raises:
            ImageRejected: a conversion failed or hit a limit (no variant is left behind).
        """
        if self._file is None:
            return ()
        settings = get_settings()
        self._file.flush()
        source = Path(self._file.name)
        size = source.stat().st_size
        limits = convert.Limits(settings.convert_timeout_seconds,
                                settings.convert_max_output_bytes)
        made: list[Location] = []
        try:
            for target in convert.targets(inspection.format, image.disk_format or "",
                                          settings.convert_to):
                with (tracing.subsegment("convert", image_id=image.id, format=target, bytes=size),
                      metrics.throughput("Convert", size)):
                    output = convert.convert(source, inspection.format, target,
                                             source.with_name(f"variant.{target}"), limits)
                on_progress(0)
                made.append(_store(output, image.id, f"{upload_id}-{target}", target, store,
                                   on_progress))
                output.unlink()
        except Exception:
            for location in made:  # a failed import leaves nothing behind
                objects.delete(location.key)
            raise
        return tuple(made)


@contextmanager
def spool(converting: bool) -> Iterator[Spool]:
    """A Spool in a private directory of the work dir (removed afterwards) when converting."""
    if not converting:
        yield Spool(None)
        return
    with tempfile.TemporaryDirectory(prefix="glint-", dir=get_settings().work_dir) as work:
        with open(Path(work) / "original", "wb") as file:
            yield Spool(file)


def _store(path: Path, image_id: str, location_id: str, disk_format: str, store: str,
           on_progress: Progress) -> Location:
    with path.open("rb") as file:
        digests = digest(iter(functools.partial(file.read, objects.CHUNK_SIZE), b""))
    key = keys.image_key(image_id, location_id)
    with tracing.subsegment("upload", image_id=image_id, bytes=digests.size):
        objects.upload_file(path, key, on_progress=on_progress)
    return Location(id=location_id, store=store, key=key, disk_format=disk_format,
                    checksum=digests.md5, os_hash_value=digests.sha512, size=digests.size)
