"""Image data out: where a client downloads an image's bytes from."""
from __future__ import annotations

from chalicelib.blobs import presign
from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.image import Status
from chalicelib.services.images import get_image


def download_url(ctx: RequestContext, image_id: str,
                 disk_format: str | None = None) -> str | None:
    """A presigned GET of the image's active data, or None when it has no data (204);
    `disk_format` picks a converted variant (docs/formats.md), the original by default.

    Raises:
        Forbidden: the image is deactivated (admins may still download it).
        NotFound: the image has no data in the asked disk_format.
    """
    image = get_image(ctx, image_id)
    if image.status is Status.DEACTIVATED and not ctx.is_admin:
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
    return presign.presign_get(chosen[0].key, get_settings().presign_expires_seconds)
