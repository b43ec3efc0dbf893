"""Image use cases: each calls policy, db, blobs and events in order, top to bottom."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from chalicelib import events
from chalicelib.config import get_settings
from chalicelib.db import images as image_db
from chalicelib.db import members as member_db
from chalicelib.db.along import Along
from chalicelib.domain import create, listing, patch, policy, quotas, usage
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.domain.image import Image, Status, transition, utcnow
from chalicelib.domain.query import DEFAULT_SORT, ListQuery
from chalicelib.lifecycle import deletes, quota_holds
from chalicelib.services import quotas as quota_service

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list; `next_marker` is None on the last page."""

    images: list[Image]
    next_marker: str | None


def create_image(ctx: RequestContext, body: Any) -> Image:
    """`POST /v2/images`: a new queued image owned by the caller's project (or, for an
    admin, the one it names), counted against that project's image_count_total.

    Raises:
        QuotaExceeded: too many properties or tags, or the owner has all the images allowed.
    """
    image = create.new_image(ctx, body, utcnow())
    quotas.check_image(None, image, quota_service.image_limits())
    # The charge and the event are written with the image, in one transaction.
    created = events.image_entry(events.IMAGE_CREATE, image)
    image = image_db.create(image, Along(image.owner, usage.new_image(),
                                         quota_holds.limits_of(image.owner), (created,)))
    events.flush([created])
    return image


def get_image(ctx: RequestContext, image_id: str) -> Image:
    """An image the caller may see (a member sees a shared image whatever its member status).

    Raises:
        NotFound: it does not exist or is another project's private image.
    """
    image = image_db.get(image_id)
    return policy.require_visible(ctx, image, member_status(ctx, image))


def get_image_for(ctx: RequestContext, image_id: str, rule: str) -> Image:
    """An image the caller may see and may do `rule` to (404 before 403, as in Glance).

    Raises:
        NotFound: it does not exist or the caller may not see it.
        Forbidden: the caller sees it but the policy rule refuses the action.
    """
    image = image_db.get(image_id)
    status = member_status(ctx, image)
    policy.require_visible(ctx, image, status)
    policy.require(ctx, rule, image, status)
    return image


def member_status(ctx: RequestContext, image: Image) -> str | None:
    """The caller's membership status of the image, where it matters for what it may see."""
    # One extra read, made only where membership can change the answer: someone else's
    # shared image, seen by a non-admin.
    if image.visibility != "shared" or image.owner == ctx.project_id or ctx.is_admin:
        return None
    member = member_db.find(image.id, ctx.project_id)
    return str(member.status) if member else None


def list_images(ctx: RequestContext, query: ListQuery) -> Page:
    """`GET /v2/images`: the images this caller may see that pass the query's filters, in
    its order, one page at a time (read costs: db/image_lists.py, docs/listing.md).

    Raises:
        Forbidden: the `get_images` rule refuses the caller.
        Invalid: the marker names no image the caller can see (Glance answers 400).
    """
    policy.require_allowed(ctx, "get_images", {"project_id": ctx.project_id})
    marker = None
    if query.marker:
        try:
            marker = get_image(ctx, query.marker)
        except NotFound as exc:
            raise Invalid(f"Invalid marker. Image {query.marker} could not be found.") from exc
    if query.limit == 0:
        return Page([], None)
    plan = listing.plan(ctx, query)
    if plan is None:
        return _sorted_in_memory(ctx, query, marker)
    found: list[Image] = []
    budget = listing.read_budget(query.limit)
    for examined, image in enumerate(image_db.listed(plan, marker, query.limit + 1), 1):
        if listing.matches(image, query):
            found.append(image)
            if len(found) > query.limit:
                break
        elif examined >= budget:  # filters no index serves: continue after this one
            return Page(found, image.id)
    return _page(found, query.limit)


def _sorted_in_memory(ctx: RequestContext, query: ListQuery, marker: Image | None) -> Page:
    # Orders no index has (several sort keys; id, formats): every image of the sources.
    newest = listing.plan(ctx, replace(query, sort=DEFAULT_SORT))
    everything = listing.ordered((i for i in image_db.listed(newest, None, 100)
                                  if listing.matches(i, query)), query.sort)
    start = 0
    if marker is not None:
        ids = [i.id for i in everything]
        if marker.id not in ids:
            raise Invalid(f"Invalid marker. Image {marker.id} is not in this list.")
        start = ids.index(marker.id) + 1
    return _page(everything[start:start + query.limit + 1], query.limit)


def _page(found: list[Image], limit: int) -> Page:
    page = found[:limit]
    return Page(page, page[-1].id if len(found) > limit else None)


def update_image(ctx: RequestContext, image_id: str, content_type: str, body: Any) -> Image:
    """`PATCH /v2/images/{id}`: apply a Glance JSON-patch; a concurrent change gives 409.

    Raises:
        QuotaExceeded: the patch adds properties or tags beyond the per-image limits.
    """
    operations = patch.parse_patch(content_type, body)
    image = get_image_for(ctx, image_id, "modify_image")
    updated = patch.apply_patch(ctx, image, operations, utcnow())
    if updated is image:
        return image
    quotas.check_image(image, updated, quota_service.image_limits())
    saved = image_db.save(updated)
    quota_service.follow_owner(image, saved)
    events.publish_image(events.IMAGE_UPDATE, saved)
    return saved


def delete_image(ctx: RequestContext, image_id: str) -> None:
    """`DELETE /v2/images/{id}`: with delayed delete an active image goes `pending_delete`
    (the scrubber purges it later; an admin may restore it until then), else it is deleted
    for good. Either way every location goes `pending_delete` in that same write, so data a
    store refuses to drop now is retried by the scrubber, never leaked or shown as an error.

    Raises:
        Forbidden: the image is protected, or not the caller's.
        StaleWrite: the image changed while this ran (nothing was deleted).
    """
    image = get_image_for(ctx, image_id, "delete_image")
    if image.protected:
        raise Forbidden(f"Image {image.id} is protected and cannot be deleted.")
    if get_settings().delayed_delete and image.status is Status.ACTIVE:
        pending = deletes.with_locations_doomed(transition(image, Status.PENDING_DELETE,
                                                           utcnow()))
        _save_and_publish(pending, events.IMAGE_DELETE)
        return
    deletes.delete_for_good(image, events.IMAGE_DELETE)
    log.info("image deleted", extra={"image_id": image.id, "project": ctx.project_id})


def restore_image(ctx: RequestContext, image_id: str) -> Image:
    """`POST /v2/images/{id}/actions/restore` (Glint extension, admins): undo a delayed
    delete before the scrubber purges the image.

    Raises:
        Forbidden: the `restore_image` rule (admins) refuses the caller.
        Conflict: the image is not pending_delete.
    """
    image = get_image_for(ctx, image_id, "restore_image")
    if image.status is not Status.PENDING_DELETE:
        raise Conflict(f"Image {image.id} is {image.status}; only a pending_delete image "
                       "can be restored.")
    return _save_and_publish(deletes.with_locations_restored(
        transition(image, Status.ACTIVE, utcnow())), events.IMAGE_RESTORE)


def _save_and_publish(image: Image, event: str) -> Image:
    """Save the image with `event` in the outbox, in one transaction; then publish it."""
    published = events.image_entry(event, image)
    saved = image_db.save(image, Along(events=(published,)))
    events.flush([published])
    return saved
