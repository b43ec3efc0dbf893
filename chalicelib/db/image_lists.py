"""Image lists: the list-index attributes an image carries, and the reads of a list plan.

Every list reads key ranges of sparse GSIs (never a scan, never the catalog): the owner,
visibility (public/community) and all-images (admins) partitions, each ordered five ways
(created_at, name, updated_at, size, status: the `sort_key` and `order_*` attributes), with
hidden images (os_hidden) in partitions of their own. Shares come from the members GSI.

Read costs (DynamoDB items read), for a plan of S key ranges and a page of `limit`:
- each range is one query stream read lazily, `limit + 1` items per request, merged in the
  page's order: a page whose filters the ranges answer costs at most S * (limit + 1) items,
  whatever the catalog's size; other filters stop at the read budget (domain/listing.py).
- shares in the default order (created_at desc): the members GSI page by page, plus one
  batch get per chunk of ids; in any other order every share of the caller in that member
  status (bounded by what was shared with the project, not by the catalog).
- a marker: one get (services/images.py), for its position in the index.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.db import members as member_db
from chalicelib.db.models import ImageModel, bound
from chalicelib.domain.image import Image, Status
from chalicelib.domain.listing import Plan, Scan, order_key

# The one partition of the all-images indexes (hidden images: its hidden twin).
_ALL = "live"
_HIDDEN = "#hidden"
# Visibilities that put an image in the sparse visibility indexes.
_LISTED_VISIBILITIES = ("public", "community")
# The item attribute holding each order's key.
_ORDER_ATTRIBUTES = {"created_at": "sort_key", "name": "order_name",
                     "updated_at": "order_updated", "size": "order_size",
                     "status": "order_status"}
# (source kind, order) -> the model's index attribute.
_INDEXES = {("owner", "created_at"): "by_owner", ("visibility", "created_at"): "by_visibility",
            ("all", "created_at"): "every",
            **{(kind, order): f"{prefix}_{order.removesuffix('_at')}"
               for kind, prefix in (("owner", "by_owner"), ("visibility", "by_visibility"),
                                    ("all", "every"))
               for order in ("name", "updated_at", "size", "status")}}


def index_attributes(image: Image) -> dict[str, Any]:
    """The attributes that put a live image in its list indexes, in every order."""
    hidden = _HIDDEN if image.os_hidden else ""
    listed = image.visibility in _LISTED_VISIBILITIES
    return {"list_owner": image.owner + hidden,
            "list_visibility": image.visibility + hidden if listed else None,
            "list_all": _ALL + hidden,
            **{attribute: order_key(order, image)
               for order, attribute in _ORDER_ATTRIBUTES.items()}}


def read(plan: Plan, after: Image | None, page_size: int,
         to_domain: Callable[[Any], Image]) -> Iterator[Image]:
    """Every image in the plan's key ranges, in its order and each once, strictly after
    `after` (a marker). Lazy: the caller stops reading when its page is done."""
    after_key = order_key(plan.order, after) if after else None
    attribute = _ORDER_ATTRIBUTES[plan.order]
    streams = [_stream(scan, plan, after_key, page_size) for scan in plan.scans]
    seen: set[str] = set()
    for item in heapq.merge(*streams, key=lambda item: getattr(item, attribute),
                            reverse=plan.descending):
        if item.id not in seen:  # e.g. a project's own public image is in two partitions
            seen.add(item.id)
            yield to_domain(item)


def _stream(scan: Scan, plan: Plan, after_key: str | None, page_size: int) -> Iterator[Any]:
    if scan.source.kind == "shared":
        return _shared(scan, plan, after_key, page_size)
    model = bound(ImageModel)
    index = getattr(model, _INDEXES[(scan.source.kind, scan.index)])
    attribute = getattr(ImageModel, _ORDER_ATTRIBUTES[scan.index])
    partition = (scan.source.key or _ALL) + (_HIDDEN if plan.hidden else "")
    start = _position(scan, plan.order, after_key)
    low, high = scan.bounds(start, plan.descending)
    if low is not None and high is not None:
        if low > high:
            return iter(())
        condition = attribute.between(low, high)
    elif high is not None:
        condition = attribute < high
    elif low is not None:
        condition = attribute > low
    else:
        condition = None
    items = index.query(partition, range_key_condition=condition,
                        scan_index_forward=not plan.descending, page_size=page_size)
    # `between` is inclusive: the marker itself is not part of the page.
    return (item for item in items if getattr(item, attribute.attr_name) != start)


def _position(scan: Scan, order: str, after_key: str | None) -> str | None:
    """The marker's key in the scan's index: its plan-order key, or (a created_at plan read
    through a name/status range, whose prefix fixes the value) prefix + created_at key."""
    if after_key is None or scan.index == order:
        return after_key
    return scan.prefix + after_key


def _shared(scan: Scan, plan: Plan, after_key: str | None, page_size: int) -> Iterator[Any]:
    source = scan.source
    if plan.order == "created_at" and plan.descending:  # the members GSI's own order
        ids = member_db.shared_image_ids(source.key, source.member_status, after_key,
                                         page_size)
        while chunk := list(itertools.islice(ids, page_size)):
            yield from _live_shared(chunk)
        return
    ids = list(member_db.shared_image_ids(source.key, source.member_status, None, page_size))
    attribute = _ORDER_ATTRIBUTES[plan.order]
    items = sorted((item for start in range(0, len(ids), 100)
                    for item in _live_shared(ids[start:start + 100])),
                   key=lambda item: getattr(item, attribute), reverse=plan.descending)
    if after_key is None:
        yield from items
    else:
        yield from (item for item in items if (getattr(item, attribute) < after_key
                                               if plan.descending
                                               else getattr(item, attribute) > after_key))


def _live_shared(ids: list[str]) -> Iterator[Any]:
    # A share outlives a visibility change or a delete: such images drop out here.
    found = {item.id: item for item in bound(ImageModel).batch_get(ids, consistent_read=True)}
    for image_id in ids:
        item = found.get(image_id)
        if item and item.visibility == "shared" and item.status != Status.DELETED:
            yield item
