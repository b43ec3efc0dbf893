"""Deactivate and reactivate, with Glance's rules: a repeat is a no-op, any other status
is refused with 403 (Glance's domain raises Forbidden there). Standard library only."""
from __future__ import annotations

from chalicelib.domain.errors import Forbidden
from chalicelib.domain.image import Image, Status, transition


def deactivated(image: Image, now: str) -> Image:
    """The image deactivated; the same object when it already is.

    Raises:
        Forbidden: the image is neither active nor deactivated.
    """
    return _toggled(image, Status.ACTIVE, Status.DEACTIVATED, "deactivate", now)


def reactivated(image: Image, now: str) -> Image:
    """The image active again; the same object when it already is.

    Raises:
        Forbidden: the image is neither deactivated nor active.
    """
    return _toggled(image, Status.DEACTIVATED, Status.ACTIVE, "reactivate", now)


def _toggled(image: Image, source: Status, target: Status, verb: str, now: str) -> Image:
    if image.status is target:
        return image
    if image.status is not source:
        raise Forbidden(f"Not allowed to {verb} image in status '{image.status}'")
    return transition(image, target, now)
