"""A project's usage recounted from its records (domain.usage.recount)."""
from __future__ import annotations

from chalicelib.domain.image import Image, Location, PendingUpload, Status
from chalicelib.domain.usage import recount


def _image(image_id: str, **fields) -> Image:
    return Image(id=image_id, owner="p", created_at="t", updated_at="t", **fields)


def test_recount_adds_images_stored_bytes_and_pending_holds():
    active = _image("a", status=Status.ACTIVE, size=100, locations=(
        Location("l1", "default", "images/a/l1"),
        Location("l2", "default", "images/a/l2", disk_format="raw", size=300),
        Location("l3", "cold", "images/a/l3", status="deleted")))
    uploading = _image("b", status=Status.UPLOADING, upload=PendingUpload(
        "u", "staging/b/u", 50, reserved_bytes=50))
    queued = _image("c")
    assert recount([active, uploading, queued]) == {
        "image_size_total": 400 + 50, "image_stage_total": 50, "image_count_total": 3,
        "image_count_uploading": 1}


def test_recount_of_nothing_is_zero():
    assert set(recount([]).values()) == {0}
