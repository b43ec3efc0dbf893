"""The list engine: every index-served order and filter pages exactly like a sort of the
whole list would, and filters no index serves end a page at the read budget instead of
reading on (the `next` marker continues where it stopped)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from chalicelib.db import images as image_db
from chalicelib.domain import listing
from chalicelib.domain.image import Status
from tests.api.test_image_lists import MEMBER, _ids
from tests.support import call, create_image

SORTS = ("created_at", "name", "updated_at", "size", "status")


@pytest.fixture()
def catalog(client):
    """Images of p1 with repeated names, sizes (some unset) and statuses, a public image
    of admin's and an image of p2's shared with p1 (accepted)."""
    made = []
    for n, (name, size, status) in enumerate([
            ("b", 30, Status.ACTIVE), ("a", None, Status.QUEUED), ("b", 10, Status.ACTIVE),
            ("c", 10, Status.KILLED), (None, 20, Status.QUEUED), ("a", 30, Status.ACTIVE)]):
        image_id = create_image(client, **MEMBER, name=name)["id"]
        image_db.save(replace(image_db.get(image_id), size=size, status=status))
        made.append(image_id)
    made.append(create_image(client, visibility="public", name="b")["id"])
    shared = create_image(client, project="p2", visibility="shared", name="a")["id"]
    call(client, "POST", f"/v2/images/{shared}/members", {"member": "p1"}, project="p2",
         roles="member")
    call(client, "PUT", f"/v2/images/{shared}/members/p1", {"status": "accepted"}, **MEMBER)
    return made + [shared]


def _later(stamp: str, seconds: int) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _expected(ids, sort, direction, keep=lambda image: True):
    images = [image_db.get(i) for i in ids]
    return [i.id for i in listing.ordered([i for i in images if keep(i)], ((sort, direction),))]


def test_every_indexed_order_pages_like_a_full_sort(client, catalog):
    for sort in SORTS:
        for direction in ("asc", "desc"):
            got = _ids(client, f"sort_key={sort}&sort_dir={direction}&limit=3")
            assert got == _expected(catalog, sort, direction), (sort, direction)


def test_prefix_filters_page_in_their_orders(client, catalog):
    for query, sort, keep in [
            ("name=b", "created_at", lambda i: i.name == "b"),
            ("name=in:a,c", "name", lambda i: i.name in ("a", "c")),
            ("status=in:queued,killed", "created_at",
             lambda i: i.status in (Status.QUEUED, Status.KILLED)),
            ("status=active", "status", lambda i: i.status is Status.ACTIVE),
            ("owner=p1", "size", lambda i: i.owner == "p1")]:
        for direction in ("asc", "desc"):
            got = _ids(client, f"{query}&sort_key={sort}&sort_dir={direction}&limit=2")
            assert got == _expected(catalog, sort, direction, keep), (query, direction)


def test_unindexed_filter_ends_the_page_at_the_read_budget(client):
    limit = 1
    budget = listing.read_budget(limit)
    rare = create_image(client, **MEMBER, tags=["rare"])  # the oldest
    template = image_db.get(rare["id"])
    for n in range(budget + 5):  # written directly: only their number matters
        image_db.create(replace(template, id=f"common-{n:04d}", tags=(), version=None,
                                created_at=_later(template.created_at, n + 1)))
    status, page, _ = call(client, "GET", f"/v2/images?tag=rare&limit={limit}", **MEMBER)
    assert status == 200 and page["images"] == [] and "next" in page  # stopped, not done
    assert _ids(client, f"tag=rare&limit={limit}") == [rare["id"]]  # following `next` finds it

