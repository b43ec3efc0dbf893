"""Image creation rules and upload planning."""
from __future__ import annotations

import pytest

from chalicelib.domain.context import RequestContext
from chalicelib.domain.create import new_image
from chalicelib.domain.errors import Forbidden, Invalid, QuotaExceeded
from chalicelib.domain.uploads import (MAX_PARTS, MIB, UploadRequest, parse_upload_request,
                                       plan_upload)

MEMBER = RequestContext(project_id="p", user_id="u", roles=frozenset({"member"}))


def test_new_image_defaults_and_property_split():
    image = new_image(MEMBER, {"name": "x", "os_distro": "ubuntu", "tags": ["a", "a"]}, "now")
    assert image.owner == "p" and image.visibility == "shared" and image.status == "queued"
    assert image.properties == {"os_distro": "ubuntu"} and image.tags == ("a",)


@pytest.mark.parametrize("body,error", [
    ("x", Invalid), ({"name": "n" * 256}, Invalid), ({"id": "not-a-uuid"}, Invalid),
    ({"size": 5}, Forbidden), ({"owner": "other"}, Forbidden), ({"deleted": "1"}, Forbidden),
])
def test_new_image_refusals(body, error):
    with pytest.raises(error):
        new_image(MEMBER, body, "now")


def test_plan_single_and_multipart():
    assert not plan_upload(UploadRequest(size=10), 100, 64 * MIB).multipart
    plan = plan_upload(UploadRequest(size=200), 100, 64 * MIB)
    assert plan.multipart and plan.part_sizes == (200,) and plan.part_size == 64 * MIB
    with pytest.raises(QuotaExceeded):
        plan_upload(UploadRequest(size=200, multipart=False), 100, 64 * MIB)


def test_plan_grows_parts_to_fit_ten_thousand():
    size = 1024 * 1024 * MIB  # 1 TiB
    plan = plan_upload(UploadRequest(size=size, part_size=5 * MIB), 0, 5 * MIB)
    assert len(plan.part_sizes) <= MAX_PARTS and sum(plan.part_sizes) == size


def test_parse_upload_request_normalises_sha256():
    assert parse_upload_request({"size": 1, "sha256": "AB" * 32}).sha256 == "ab" * 32
