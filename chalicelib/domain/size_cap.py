"""The largest image this cloud takes (Glance's image_size_cap), checked wherever bytes are
promised or arrive: upload grants, multipart completion, web-download."""
from __future__ import annotations

from chalicelib.domain.errors import QuotaExceeded


class ImageTooLarge(QuotaExceeded):
    """The image's data is larger than the deployment's image size cap (Glance: 413)."""


def check_image_size(size: int, cap: int) -> None:
    """Refuse `size` bytes of image data above `cap`.

    Raises:
        ImageTooLarge: `size` is above `cap`.
    """
    if size > cap:
        raise ImageTooLarge(f"Image of {size} bytes exceeds this cloud's image size cap of "
                            f"{cap} bytes.", {"size_cap": cap, "size": size})
