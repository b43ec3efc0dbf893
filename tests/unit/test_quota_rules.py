"""Pure quota rules: what operations cost, limits and their units, the 413s, per-image bounds."""
from __future__ import annotations

import pytest

from chalicelib.domain import quotas, usage
from chalicelib.domain.errors import Invalid, QuotaExceeded
from chalicelib.domain.image import Image, Location, PendingUpload, Status
from chalicelib.domain.quotas import ImageLimits
from chalicelib.domain.uploads import MIB

UNLIMITED = dict.fromkeys(usage.QUOTA_NAMES, usage.UNLIMITED)


def _image(status: Status = Status.ACTIVE, **fields) -> Image:
    return Image(id="i", owner="p1", created_at="t", updated_at="t", status=status, **fields)


def _upload(size: int, reserved: int | None) -> PendingUpload:
    return PendingUpload(id="u", key="staging/i/u", size=size, reserved_bytes=reserved)


def test_stored_bytes_counts_every_live_location_variants_by_their_own_size():
    image = _image(size=2 * MIB, locations=(
        Location("a", "default", "k"), Location("b", "default", "k2", status="deleted"),
        Location("c", "default", "k3", disk_format="raw", size=5 * MIB)))
    assert usage.stored_bytes(image) == 7 * MIB


def test_upload_holds_one_upload_and_its_bytes_in_staging_and_in_the_total():
    assert usage.upload(10) == {usage.IMAGE_COUNT_UPLOADING: 1, usage.IMAGE_STAGE_TOTAL: 10,
                                usage.IMAGE_SIZE_TOTAL: 10}
    assert usage.reserved(_upload(10, 10)) == usage.upload(10)
    # An upload recorded before quotas (or none) holds nothing, so nothing is given back.
    assert usage.reserved(_upload(10, None)) == {} and usage.reserved(None) == {}


def test_activation_gives_back_the_hold_and_charges_what_is_stored():
    pending = _upload(4 * MIB, 4 * MIB)
    active = _image(size=4 * MIB, locations=(
        Location("u", "default", "k"), Location("v", "default", "k2", size=6 * MIB)))
    assert usage.activation(pending, active) == {
        usage.IMAGE_COUNT_UPLOADING: -1, usage.IMAGE_STAGE_TOTAL: -4 * MIB,
        usage.IMAGE_SIZE_TOTAL: 6 * MIB}


def test_deletion_gives_back_count_stored_bytes_and_any_pending_hold():
    assert usage.deletion(_image(size=3, locations=(Location("a", "default", "k"),))) == {
        usage.IMAGE_COUNT_TOTAL: -1, usage.IMAGE_SIZE_TOTAL: -3}
    uploading = _image(Status.UPLOADING, upload=_upload(9, 9))
    assert usage.deletion(uploading) == {usage.IMAGE_COUNT_TOTAL: -1,
                                         usage.IMAGE_COUNT_UPLOADING: -1,
                                         usage.IMAGE_STAGE_TOTAL: -9, usage.IMAGE_SIZE_TOTAL: -9}


def test_combine_sums_and_drops_what_cancels():
    assert usage.combine({"a": 1, "b": 2}, {"a": -1, "b": 1}) == {"b": 3}
    assert usage.negate({"a": 2}) == {"a": -2}


def test_ceilings_leave_room_for_the_delta_in_bytes_and_skip_unlimited_and_decreases():
    limits = {**UNLIMITED, usage.IMAGE_STAGE_TOTAL: 10, usage.IMAGE_COUNT_UPLOADING: 3}
    deltas = {usage.IMAGE_STAGE_TOTAL: 4 * MIB, usage.IMAGE_COUNT_UPLOADING: 1,
              usage.IMAGE_SIZE_TOTAL: 4 * MIB, usage.IMAGE_COUNT_TOTAL: -1}
    assert quotas.ceilings("p", deltas, limits) == {usage.IMAGE_STAGE_TOTAL: 6 * MIB,
                                                    usage.IMAGE_COUNT_UPLOADING: 2}


def test_a_delta_larger_than_the_limit_is_refused_before_any_write():
    limits = {**UNLIMITED, usage.IMAGE_SIZE_TOTAL: 1}
    with pytest.raises(QuotaExceeded) as caught:
        quotas.ceilings("p", usage.upload(2 * MIB), limits)
    assert caught.value.details == {"quota": "image_size_total", "limit": 1, "usage": 0,
                                    "delta": 2}


def test_zero_limit_refuses_everything():
    with pytest.raises(QuotaExceeded):
        quotas.ceilings("p", usage.new_image(), {**UNLIMITED, usage.IMAGE_COUNT_TOTAL: 0})


def test_over_limit_words_it_as_oslo_limit_in_mib():
    exc = quotas.over_limit("p1", usage.IMAGE_SIZE_TOTAL, {usage.IMAGE_SIZE_TOTAL: MIB + 1},
                            {**UNLIMITED, usage.IMAGE_SIZE_TOTAL: 10},
                            {usage.IMAGE_SIZE_TOTAL: 9 * MIB + 5})
    assert exc.message == ("Project p1 is over a limit for [Resource image_size_total is over "
                           "limit of 10 MiB due to current usage 9 MiB and delta 2 MiB]")
    assert exc.details == {"quota": "image_size_total", "limit": 10, "usage": 9, "delta": 2}


def test_first_exceeded_names_the_quota_that_breaks():
    limits = {**UNLIMITED, usage.IMAGE_COUNT_UPLOADING: 2, usage.IMAGE_STAGE_TOTAL: 1}
    counters = {usage.IMAGE_COUNT_UPLOADING: 1, usage.IMAGE_STAGE_TOTAL: MIB}
    assert quotas.first_exceeded(counters, usage.upload(1), limits) == usage.IMAGE_STAGE_TOTAL
    assert quotas.first_exceeded(counters, {usage.IMAGE_COUNT_UPLOADING: 1}, limits) is None


def test_report_is_in_api_units_and_overrides_win():
    limits = quotas.effective_limits(UNLIMITED, {usage.IMAGE_SIZE_TOTAL: 5})
    report = quotas.report({usage.IMAGE_SIZE_TOTAL: 3 * MIB - 1, usage.IMAGE_COUNT_TOTAL: 2},
                           limits)
    assert report[usage.IMAGE_SIZE_TOTAL] == quotas.Quota(5, 2)
    assert report[usage.IMAGE_COUNT_TOTAL] == quotas.Quota(-1, 2)
    assert report[usage.IMAGE_STAGE_TOTAL] == quotas.Quota(-1, 0)


@pytest.mark.parametrize("body", [None, [], {}, {"image_bytes": 1}, {"image_count_total": -2},
                                  {"image_count_total": "5"}, {"image_count_total": True},
                                  {"image_count_total": 1.5}])
def test_parse_overrides_rejects_malformed_bodies(body):
    with pytest.raises(Invalid):
        quotas.parse_overrides(body)


def test_parse_overrides_takes_limits_unlimited_and_null():
    body = {"image_size_total": 1024, "image_count_total": -1, "image_stage_total": None}
    assert quotas.parse_overrides(body) == body


LIMITS = ImageLimits(properties=2, tags=2)


def test_check_image_bounds_properties_and_tags_on_create():
    quotas.check_image(None, _image(properties={"a": "1", "b": "2"}, tags=("x", "y")), LIMITS)
    with pytest.raises(QuotaExceeded, match="image properties. Attempted: 3, Maximum: 2"):
        quotas.check_image(None, _image(properties={"a": "1", "b": "2", "c": "3"}), LIMITS)
    with pytest.raises(QuotaExceeded, match="image tags. Attempted: 3, Maximum: 2"):
        quotas.check_image(None, _image(tags=("x", "y", "z")), LIMITS)


def test_check_image_lets_an_image_over_a_lowered_limit_shrink_but_not_grow():
    over = _image(properties={"a": "1", "b": "2", "c": "3"}, tags=("x", "y", "z"))
    quotas.check_image(over, _image(properties={"a": "1", "b": "2"}, tags=("x",)), LIMITS)
    quotas.check_image(over, _image(properties={"a": "9", "b": "2", "c": "3"},
                                    tags=over.tags), LIMITS)
    with pytest.raises(QuotaExceeded):
        quotas.check_image(over, _image(properties={**over.properties, "d": "4"}), LIMITS)


def test_check_image_unlimited():
    many = {str(n): "v" for n in range(500)}
    quotas.check_image(None, _image(properties=many), ImageLimits(-1, -1))
    with pytest.raises(QuotaExceeded):  # the same image over a real limit
        quotas.check_image(None, _image(properties=many), ImageLimits(499, -1))


def test_check_image_bounds_key_and_value_lengths_and_total_bytes():
    limits = ImageLimits(-1, -1)
    quotas.check_image(None, _image(properties={"k" * 255: "v" * 65535}), limits)
    with pytest.raises(Invalid, match="longer than 255"):
        quotas.check_image(None, _image(properties={"k" * 256: "v"}), limits)
    with pytest.raises(Invalid, match="longer than 65535"):
        quotas.check_image(None, _image(properties={"k": "v" * 65536}), limits)
    big = {f"k{n}": "v" * 60000 for n in range(5)}
    with pytest.raises(QuotaExceeded, match="bytes"):
        quotas.check_image(None, _image(properties=big), limits)
