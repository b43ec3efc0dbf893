"""The status machine, table-driven over TRANSITIONS."""
from __future__ import annotations

import pytest

from chalicelib.domain.errors import InvalidTransition
from chalicelib.domain.image import TRANSITIONS, Image, Status, transition, wire_time

ALL = list(Status)


def _image(status: Status, **fields) -> Image:
    return Image(id="i", owner="p", created_at="t", updated_at="t", status=status,
                 disk_format="raw", container_format="bare", **fields)


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_follows_the_table(source, target):
    image = _image(source)
    if target in TRANSITIONS[source]:
        assert transition(image, target, "now").status is target
    else:
        with pytest.raises(InvalidTransition):
            transition(image, target, "now")


def test_transition_to_importing_requires_formats():
    image = Image(id="i", owner="p", created_at="t", updated_at="t", status=Status.UPLOADING)
    with pytest.raises(InvalidTransition, match="disk_format"):
        transition(image, Status.IMPORTING, "now")


def test_entering_queued_clears_size_and_upload_state():
    image = _image(Status.IMPORTING, size=10, virtual_size=20)
    queued = transition(image, Status.QUEUED, "later")
    assert (queued.size, queued.virtual_size, queued.upload, queued.claim) == (None,) * 4
    assert queued.updated_at == "later"


def test_killed_is_never_a_target():
    assert all(Status.KILLED not in targets for targets in TRANSITIONS.values())


def test_wire_time_drops_fractions():
    assert wire_time("2026-11-22T02:37:14.123456Z") == "2026-11-22T02:37:14Z"
    assert wire_time("2026-11-22T02:37:14Z") == "2026-11-22T02:37:14Z"
