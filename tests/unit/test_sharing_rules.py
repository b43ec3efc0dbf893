"""Pure rules behind members, tags and actions (quota rules: test_quota_rules.py)."""
from __future__ import annotations

import pytest

from chalicelib.domain import actions, members, policy, tags, usage
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, Invalid, NotFound, QuotaExceeded
from chalicelib.domain.image import Image, Status

OWNER = RequestContext(project_id="p1", user_id="u", roles=frozenset({"member"}))
OTHER = RequestContext(project_id="p2", user_id="u", roles=frozenset({"member"}))
ADMIN = RequestContext(project_id="ops", user_id="u", roles=frozenset({"admin"}))


def _image(status: Status = Status.ACTIVE, **fields) -> Image:
    return Image(id="i", owner="p1", created_at="t", updated_at="t", status=status, **fields)


@pytest.mark.parametrize("visibility,member_status,visible", [
    ("shared", None, False), ("shared", "pending", True), ("shared", "rejected", True),
    ("private", "accepted", False), ("public", None, True), ("community", None, True),
])
def test_can_see_counts_membership_only_on_shared_images(visibility, member_status, visible):
    image = _image(visibility=visibility)
    assert policy.can_see(OTHER, image, member_status) is visible
    assert policy.can_see(OWNER, image) and policy.can_see(ADMIN, image)


@pytest.mark.parametrize("change,source,target", [
    (actions.deactivated, Status.ACTIVE, Status.DEACTIVATED),
    (actions.reactivated, Status.DEACTIVATED, Status.ACTIVE),
])
def test_actions_move_once_repeat_as_no_op_and_refuse_other_statuses(change, source, target):
    assert change(_image(source), "now").status is target
    already = _image(target)
    assert change(already, "now") is already
    for status in set(Status) - {source, target}:
        with pytest.raises(Forbidden):
            change(_image(status), "now")


def test_tags_add_idempotently_within_limits_and_remove_only_present_ones():
    image = _image(tags=("a",))
    assert tags.with_tag(image, "a", 1, "now") is image
    assert tags.with_tag(image, "b", 2, "now").tags == ("a", "b")
    assert tags.with_tag(image, "b", usage.UNLIMITED, "now").tags == ("a", "b")
    with pytest.raises(QuotaExceeded):
        tags.with_tag(image, "b", 1, "now")
    for bad in ("", "x" * 256):
        with pytest.raises(Invalid):
            tags.with_tag(image, bad, 10, "now")
    assert tags.without_tag(image, "a", "now").tags == ()
    with pytest.raises(NotFound):
        tags.without_tag(image, "b", "now")


def test_member_rules():
    image = _image(visibility="shared")
    member = members.new_member(image, "p2", "now")
    assert member.status is members.MemberStatus.PENDING
    members.require_may_set_status(OTHER, image, member)
    with pytest.raises(Forbidden):
        members.require_may_set_status(OWNER, image, member)
    with pytest.raises(Forbidden):
        members.require_may_manage(OTHER, image, "add_member")
    with pytest.raises(Forbidden):
        members.require_shared(_image(visibility="private"))
    third = members.new_member(image, "p3", "now")
    assert members.visible_members(OTHER, image, [third, member]) == [member]
    assert members.visible_members(OWNER, image, [third, member]) == [member, third]
    members.require_member_quota(1, 2)
    with pytest.raises(QuotaExceeded):
        members.require_member_quota(2, 2)
