"""Download an image to a file, verifying md5 and the image's os_hash as the bytes are written."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from glint_client.api import ImageApi
from glint_client.progress import Progress

CHUNK = 1024 * 1024


class VerificationFailed(Exception):
    """The bytes received are not the image's (the partial file was removed)."""


def download_image(api: ImageApi, image_id: str, target: Path,
                   progress: Progress | None = None) -> dict:
    """Write the image's data to `target` (through `target.part`, renamed only once the
    size, md5 and os_hash_value match the image's); returns the image.

    Raises:
        VerificationFailed: size or a digest differs; nothing is left at `target`.
        ApiError: no such image, no data, or not allowed.
    """
    image = api.get_image(image_id)
    md5 = hashlib.md5()
    os_hash = hashlib.new(image.get("os_hash_algo") or "sha512")
    partial = target.with_name(target.name + ".part")
    progress = progress or Progress("download", image.get("size") or 0)
    received = 0
    try:
        with api.open_download(image_id) as response, open(partial, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                md5.update(chunk)
                os_hash.update(chunk)
                received += len(chunk)
                progress.add(len(chunk))
        progress.finish()
        _verify(image, received, md5.hexdigest(), os_hash.hexdigest())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return image


def _verify(image: dict, size: int, md5: str, os_hash: str) -> None:
    problems = []
    if image.get("size") is not None and size != image["size"]:
        problems.append(f"{size} bytes received, the image has {image['size']}")
    if image.get("checksum") and md5 != image["checksum"]:
        problems.append(f"md5 {md5} is not the image's {image['checksum']}")
    if image.get("os_hash_value") and os_hash != image["os_hash_value"]:
        problems.append(f"{image.get('os_hash_algo')} differs from the image's os_hash_value")
    if problems:
        raise VerificationFailed("Download failed verification: " + "; ".join(problems) + ".")
