"""Member repository: image shares keyed by (image_id, member_id), with a GSI by member.

The GSI's range key is `<status>#<image order key>`, so "images shared with me and
accepted" is one newest-first query whose pages line up with the image lists' pages.

Read costs (DynamoDB items read): find/get 1; list_for_image and count the image's
members (at most the member quota); shared_image_ids what the caller consumes, in pages.
"""
from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import DoesNotExist

from chalicelib.db.models import MemberModel, bound, image_order_key
from chalicelib.db.writes import conditional
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.image import Image
from chalicelib.domain.members import Member, MemberStatus


def find(image_id: str, member_id: str) -> Member | None:
    """The membership of `member_id` in the image, or None."""
    try:
        return _to_domain(bound(MemberModel).get(image_id, member_id, consistent_read=True))
    except DoesNotExist:
        return None


def get(image_id: str, member_id: str) -> Member:
    """The membership of `member_id` in the image.

    Raises:
        NotFound: the project is not a member of the image.
    """
    member = find(image_id, member_id)
    if member is None:
        raise _not_a_member(image_id, member_id)
    return member


def list_for_image(image_id: str) -> list[Member]:
    """Every member of the image."""
    return [_to_domain(item) for item in
            bound(MemberModel).query(image_id, consistent_read=True)]


def count(image_id: str) -> int:
    """How many members the image has."""
    return bound(MemberModel).count(image_id, consistent_read=True)


def add(member: Member, image: Image) -> Member:
    """Store a new membership.

    Raises:
        Conflict: the project is already a member of the image.
    """
    item = _to_item(member, image)
    conditional(lambda: item.save(condition=MemberModel.member_id.does_not_exist()),
                Conflict(f"Member {member.member_id} is duplicated for image {member.image_id}"))
    return member


def update(member: Member, image: Image) -> Member:
    """Write a changed membership (last writer wins: only the member itself changes it).

    Raises:
        NotFound: the membership was removed meanwhile.
    """
    item = _to_item(member, image)
    conditional(lambda: item.save(condition=MemberModel.member_id.exists()),
                _not_a_member(member.image_id, member.member_id))
    return member


def remove(member: Member) -> None:
    """Delete a membership.

    Raises:
        NotFound: it was removed meanwhile.
    """
    item = bound(MemberModel)(member.image_id, member.member_id)
    conditional(lambda: item.delete(condition=MemberModel.member_id.exists()),
                _not_a_member(member.image_id, member.member_id))


def remove_all(image_id: str) -> None:
    """Delete every membership of an image (it is being purged)."""
    with bound(MemberModel).batch_write() as batch:
        for item in bound(MemberModel).query(image_id):
            batch.delete(item)


def shared_image_ids(member_id: str, status: str, before: str | None,
                     page_size: int) -> Iterator[str]:
    """Ids of images shared with `member_id` whose membership is in `status`, newest first,
    strictly older than the image order key `before`; read lazily, `page_size` per request."""
    model = bound(MemberModel)
    prefix = f"{MemberStatus(status)}#"
    # A key condition takes one operator: `between` is inclusive, so drop `before` itself.
    condition = (MemberModel.listing.between(prefix, prefix + before) if before
                 else MemberModel.listing.startswith(prefix))
    for item in model.by_member.query(member_id, range_key_condition=condition,
                                      scan_index_forward=False, page_size=page_size):
        if item.listing != prefix + (before or ""):
            yield item.image_id


def _not_a_member(image_id: str, member_id: str) -> NotFound:
    return NotFound(f"{member_id} not found in the member list of the image {image_id}.")


def _to_item(member: Member, image: Image) -> MemberModel:
    return bound(MemberModel)(
        member.image_id, member.member_id, status=str(member.status),
        listing=f"{member.status}#{image_order_key(image.created_at, image.id)}",
        created_at=member.created_at, updated_at=member.updated_at,
    )


def _to_domain(item: MemberModel) -> Member:
    return Member(image_id=item.image_id, member_id=item.member_id,
                  status=MemberStatus(item.status), created_at=item.created_at,
                  updated_at=item.updated_at)
