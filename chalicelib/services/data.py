"""Image data out: where a client downloads an image's bytes from."""
from __future__ import annotations

from collections.abc import Sequence

from chalicelib import stores
from chalicelib.config import get_settings
from chalicelib.domain import policy
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.image import Status
from chalicelib.domain.stores import download_order
from chalicelib.services.images import get_image_for


def download_url(ctx: RequestContext, image_id: str, disk_format: str | None = None,
                 prefer: Sequence[str] = ()) -> str | None:
    """A presigned GET of the image's active data, or None when it has no data (204);
    `disk_format` picks a converted variant (docs/formats.md), the original by default;
    among stores holding it, those in `prefer` first, then by weight (docs/stores.md).

    Raises:
        NotFound: the caller may not see the image, or it has no data in that disk_format.
        Forbidden: the `download_image` rule refuses the caller, or the image is deactivated
            (admins may still download it: `download_deactivated_image`).
    """
    image = get_image_for(ctx, image_id, "download_image")
    if image.status is Status.DEACTIVATED and not policy.allowed(
            ctx, "download_deactivated_image", policy.image_target(image)):
        raise Forbidden("The requested image has been deactivated. Image data download is "
                        "forbidden.")
    active = [loc for loc in image.locations if loc.status == "active"]
    if image.status not in (Status.ACTIVE, Status.DEACTIVATED) or not active:
        return None
    wanted = disk_format or image.disk_format
    # The original's locations carry no format of their own: the image's fields describe them.
    chosen = [loc for loc in active if (loc.disk_format or image.disk_format) == wanted]
    if not chosen:
        raise NotFound(f"Image {image_id} has no data in disk_format '{wanted}'.")
    best = download_order(chosen, stores.configured(), prefer)[0]
    return stores.presign_get(best, get_settings().presign_expires_seconds)
