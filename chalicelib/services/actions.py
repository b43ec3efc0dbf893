"""Image actions: deactivate and reactivate (owner or admin, Glance's current default)."""
from __future__ import annotations

from collections.abc import Callable

from chalicelib import events
from chalicelib.db import images as image_db
from chalicelib.domain import actions
from chalicelib.domain.context import RequestContext
from chalicelib.domain.image import Image, utcnow
from chalicelib.services.images import get_image_for


def deactivate_image(ctx: RequestContext, image_id: str) -> None:
    """`POST /v2/images/{id}/actions/deactivate`: data downloads stop (except for admins).

    Raises:
        NotFound: the caller may not see the image.
        Forbidden: not the caller's image, or it is neither active nor deactivated.
        StaleWrite: the image changed while this ran.
    """
    _act(ctx, image_id, "deactivate", actions.deactivated, events.IMAGE_DEACTIVATE)


def reactivate_image(ctx: RequestContext, image_id: str) -> None:
    """`POST /v2/images/{id}/actions/reactivate`.

    Raises:
        NotFound: the caller may not see the image.
        Forbidden: not the caller's image, or it is neither deactivated nor active.
        StaleWrite: the image changed while this ran.
    """
    _act(ctx, image_id, "reactivate", actions.reactivated, events.IMAGE_REACTIVATE)


def _act(ctx: RequestContext, image_id: str, verb: str,
         change: Callable[[Image, str], Image], event: str) -> None:
    image = get_image_for(ctx, image_id, verb)  # Glance's rules are named by the verb
    updated = change(image, utcnow())
    if updated is image:  # already there: Glance answers 204 and writes nothing
        return
    # Version-checked: a worker or another request that moved the image first wins (409).
    events.publish_image(event, image_db.save(updated))
