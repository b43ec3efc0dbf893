"""Image data out: where a client downloads an image's bytes from."""
from __future__ import annotations

from chalicelib.blobs import presign
from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.image import Status
from chalicelib.services.images import get_image


def download_url(ctx: RequestContext, image_id: str) -> str | None:
    """A presigned GET of the image's active data, or None when it has no data (204).

    Raises:
        Forbidden: the image is deactivated (admins may still download it).
    """
    image = get_image(ctx, image_id)
    if image.status is Status.DEACTIVATED and not ctx.is_admin:
        raise Forbidden("The requested image has been deactivated. Image data download is "
                        "forbidden.")
    active = [loc for loc in image.locations if loc.status == "active"]
    if image.status not in (Status.ACTIVE, Status.DEACTIVATED) or not active:
        return None
    return presign.presign_get(active[0].key, get_settings().presign_expires_seconds)
