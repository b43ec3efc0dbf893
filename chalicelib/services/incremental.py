"""Incremental images: the block manifests clients diff against, and the parent an upload
may reuse blocks from (docs/incremental.md)."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.blobs import manifests
from chalicelib.config import get_settings
from chalicelib.domain.blocks import Manifest
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Invalid, NotFound
from chalicelib.domain.image import Image, Location, Status
from chalicelib.domain.uploads import MAX_PARTS, UploadRequest
from chalicelib.services.images import get_image_for

# Only raw data can be diffed block by block: in other formats a changed guest block moves
# bytes around the file.
BLOCK_DIFFABLE_FORMATS = frozenset({"raw"})


def manifest_of(ctx: RequestContext, image_id: str) -> Manifest:
    """`GET /v2/images/{id}/blocks`: the per-block sha256 of an active image's data.

    Raises:
        NotFound: the image is invisible to the caller, or has no manifest (it was not
            activated through the verification pass).
        Forbidden: the caller may see the image but not download it.
        Conflict: the image is not active.
    """
    image = active_parent(ctx, image_id)
    return _manifest(image)


def active_parent(ctx: RequestContext, image_id: str) -> Image:
    """An image whose data the caller may read (as a download would), active.

    Raises:
        NotFound: the image is invisible to the caller.
        Forbidden: the caller may see it but not download it.
        Conflict: it is not active.
    """
    image = get_image_for(ctx, image_id, "download_image")
    if image.status is not Status.ACTIVE:
        raise Conflict(f"Image {image.id} is {image.status}; only an active image has "
                       "blocks to reuse.")
    return image


def aligned_with_parent(ctx: RequestContext, request: UploadRequest,
                        image: Image) -> UploadRequest:
    """The request, made multipart at the parent's block size when it names a parent.

    Raises:
        Invalid: the image or the parent is not raw, the parent is the image itself, or
            the image is too large to be cut at the parent's block size.
        NotFound, Forbidden, Conflict: as `active_parent`, or the parent has no manifest.
    """
    if request.parent is None:
        return request
    if request.parent == image.id:
        raise Invalid("An image cannot be its own parent.")
    if image.disk_format not in BLOCK_DIFFABLE_FORMATS:
        raise Invalid(f"Incremental uploads need disk_format raw; this image is "
                      f"{image.disk_format}.")
    parent = active_parent(ctx, request.parent)
    if parent.disk_format not in BLOCK_DIFFABLE_FORMATS:
        raise Invalid(f"Parent {parent.id} is {parent.disk_format}; only a raw image can be "
                      "a parent.")
    manifest = _manifest(parent)
    if -(-request.size // manifest.block_size) > MAX_PARTS:
        raise Invalid(f"{request.size} bytes do not fit in {MAX_PARTS} parts of the parent's "
                      f"block size ({manifest.block_size}); upload it whole.")
    return replace(request, multipart=True, part_size=manifest.block_size)


def source_location(parent: Image) -> Location:
    """The parent's original data (not a converted variant) in the default store, which
    upload parts are copied from.

    Raises:
        Conflict: the parent has no copy there.
    """
    default = get_settings().default_store.id
    for location in parent.locations:
        if location.store == default and location.disk_format is None:
            return location
    raise Conflict(f"Image {parent.id} has no data in store {default} to copy from.")


def _manifest(image: Image) -> Manifest:
    manifest = manifests.get(image.id)
    if manifest is None:
        raise NotFound(f"Image {image.id} has no block manifest (only images activated "
                       "through Glint's upload verification have one).")
    return manifest
