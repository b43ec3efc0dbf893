"""Count, don't guess: DynamoDB calls and items read per API call, for show, create, patch
and list pages under each filter and sort, at catalog sizes 1k, 10k and 100k (the catalog
written straight into the table). Prints items read per page against the page size: flat
across sizes for every index-served combination. Asserts counts (bounds), never time."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID

from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import members as member_db
from chalicelib.domain import listing
from chalicelib.domain.image import Image, Status
from chalicelib.domain.members import Member, MemberStatus
from tests.bench.conftest import report
from tests.bench.dynamodb_reads import install
from tests.support import PATCH, call, create_image

LIMIT = 20
PROJECTS = [f"p{n}" for n in range(10)]
# p1's shares come from the first images only: what is shared with a project does not grow
# with the catalog (the list reads all of them in orders other than created_at desc).
SHARED_RANGE = 1_000
CALLER = {"project": "p1", "roles": "member"}
ADMIN = {"project": "admin", "roles": "admin"}
# (label, query, who, index-served): every filter and sort of docs/listing.md.
LISTS = [
    ("default (created_at desc)", "", CALLER, True),
    ("sort created_at asc", "sort_key=created_at&sort_dir=asc", CALLER, True),
    ("sort name asc", "sort_key=name&sort_dir=asc", CALLER, True),
    ("sort updated_at desc", "sort_key=updated_at", CALLER, True),
    ("sort size asc", "sort_key=size&sort_dir=asc", CALLER, True),
    ("sort status asc", "sort_key=status&sort_dir=asc", CALLER, True),
    ("name=name-07", "name=name-07", CALLER, True),
    ("name=in:name-07,name-11 sort name", "name=in:name-07,name-11&sort_key=name", CALLER, True),
    ("status=active", "status=active", CALLER, True),
    ("status=queued sort status", "status=queued&sort_key=status", CALLER, True),
    ("visibility=public", "visibility=public", CALLER, True),
    ("visibility=community", "visibility=community", CALLER, True),
    ("owner=p1", "owner=p1", CALLER, True),
    ("member_status=pending&visibility=shared", "member_status=pending&visibility=shared",
     CALLER, False),
    ("os_hidden=true", "os_hidden=true", CALLER, True),
    ("visibility=private", "visibility=private", CALLER, False),
    ("tag=gold", "tag=gold", CALLER, False),
    ("disk_format=qcow2", "disk_format=qcow2", CALLER, False),
    ("container_format=ovf", "container_format=ovf", CALLER, False),
    ("admin default", "", ADMIN, True),
    ("admin name=name-07 sort name", "name=name-07&sort_key=name", ADMIN, True),
    ("admin sort size desc", "sort_key=size", ADMIN, True),
    ("admin owner=p3", "owner=p3", ADMIN, True),
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fill(template: Image, size: int) -> None:
    """`size` images (and shares with p1) written into moto's tables directly, no API."""
    settings, rng = get_settings(), random.Random(size)
    tables = get_backend("dynamodb")[DEFAULT_ACCOUNT_ID][settings.region]
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for n in range(size):
        created = start + timedelta(seconds=n)
        visibility = rng.choices(["private", "public", "community", "shared"], [80, 10, 5, 5])[0]
        image = replace(
            template, id=f"img-{n:06d}", owner=rng.choice(PROJECTS), name=f"name-{n % 50:02d}",
            visibility=visibility, created_at=_stamp(created),
            updated_at=_stamp(created + timedelta(seconds=rng.randrange(10**6))),
            status=rng.choices([Status.ACTIVE, Status.QUEUED, Status.KILLED], [85, 10, 5])[0],
            size=rng.randrange(1, 10**10), os_hidden=rng.random() < 0.05,
            tags=("gold",) if rng.random() < 0.02 else (),
            disk_format=rng.choice(["raw", "qcow2", "raw", "raw"]),
            container_format=rng.choice(["bare"] * 9 + ["ovf"]), version=None)
        tables.put_item(settings.images_table, image_db._to_item(image).serialize())
        if visibility == "shared" and image.owner != "p1" and n < SHARED_RANGE:
            member = Member(image.id, "p1", rng.choice(list(MemberStatus)), image.created_at,
                            image.created_at)
            tables.put_item(settings.members_table,
                            member_db._to_item(member, image).serialize())


def _page_cost(reads, client, query, who):
    """The cost of the first page and of the page after it (marker from `next`)."""
    costs = []
    path = f"/v2/images?limit={LIMIT}&{query}"
    for _ in range(2):
        with reads.measure() as cost:
            status, page, _ = call(client, "GET", path, **who)
        assert status == 200, page
        costs.append(cost)
        if "next" not in page:
            break
        path = page["next"]
    return costs


@pytest.mark.parametrize("size", [1_000, 10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_reads_per_call_do_not_grow_with_the_catalog(client, monkeypatch, capsys, size):
    template = image_db.get(create_image(client, project="p1", roles="member")["id"])
    _fill(template, size)
    reads = install(monkeypatch)
    lines = [f"catalog {size:,} images, page size {LIMIT}; items read per call "
             f"(page 1 / page 2), consumed capacity as moto reports it"]
    own = next(f"img-{n:06d}" for n in range(size) if image_db.get(f"img-{n:06d}").owner == "p1")
    with reads.measure() as show:
        assert call(client, "GET", f"/v2/images/{own}", **CALLER)[0] == 200
    lines.append(f"show (own)         {show.summary()}")
    assert show.calls == {"GetItem": 1}
    with reads.measure() as create:
        status, made, _ = call(client, "POST", "/v2/images", {"name": "x", "disk_format": "raw",
                                                             "container_format": "bare"}, **CALLER)
    assert status == 201
    lines.append(f"create             {create.summary()}")
    with reads.measure() as patch:
        assert call(client, "PATCH", f"/v2/images/{made['id']}",
                    [{"op": "replace", "path": "/name", "value": "y"}], content_type=PATCH,
                    **CALLER)[0] == 200
    lines.append(f"patch              {patch.summary()}")
    for label, query, who, served in LISTS:
        pages = _page_cost(reads, client, query, who)
        per_page = " / ".join(f"{c.items_read:4d} items {c.reads:2d} reads" for c in pages)
        lines.append(f"list {label:<40} {'index' if served else 'budget'}  {per_page}")
        for cost in pages:  # what the engine promises, whatever the catalog's size
            bound = 6 * (LIMIT + 1) + 2 if served else listing.read_budget(LIMIT) + 5 * (LIMIT + 1)
            assert cost.items_read <= bound, (label, cost)
    report(capsys, f"DynamoDB reads per API call at {size:,} images", lines)
