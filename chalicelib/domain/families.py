"""Image families and deprecation (Glint extension, docs/families.md). Pure functions.

An image names its family in `os_glint_family`; the family's "latest" image is its newest
active image that is not deprecated. Deprecation is recorded in read-only properties."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Invalid
from chalicelib.domain.image import Image, Status

FAMILY_PROPERTY = "os_glint_family"
DEPRECATED_AT_PROPERTY = "os_glint_deprecated_at"
REPLACEMENT_PROPERTY = "os_glint_replacement_id"
_WIRE = "%Y-%m-%dT%H:%M:%SZ"


def wire_now() -> str:
    """The current time in Glance's wire format (what `os_glint_deprecated_at` holds)."""
    return datetime.now(timezone.utc).strftime(_WIRE)


def index_key(image: Image) -> str | None:
    """The family under which the image is resolvable, or None to keep it out of the
    family index (no family, not active, or deprecated at the time of the write)."""
    family = image.properties.get(FAMILY_PROPERTY)
    if not family or image.status is not Status.ACTIVE or is_deprecated(image, wire_now()):
        return None
    return family


def listed_by_default(ctx: RequestContext, owner: str, visibility: str,
                      member_status: str | None) -> bool:
    """Whether the caller's default image list reaches an image of this owner and visibility
    (Glance: admins all; others their own, public ones and shares they accepted). Community
    images and unaccepted shares stay out, as from that list, so that no project can put an
    image into another project's family."""
    return (ctx.is_admin or owner == ctx.project_id or visibility == "public"
            or (visibility == "shared" and member_status == "accepted"))


def is_deprecated(image: Image, now: str) -> bool:
    """True once the image's deprecation date has come (a future date schedules it)."""
    at = image.properties.get(DEPRECATED_AT_PROPERTY)
    return bool(at) and at <= now


def parse_deprecation(body: Any, now: str) -> tuple[str, str | None]:
    """(deprecated_at, replacement_id) from `{"deprecated_at"?, "replacement_id"?}`.

    Raises:
        Invalid: unknown fields, a date not in `YYYY-MM-DDThh:mm:ssZ`, or a replacement that
            is not a string.
    """
    body = {} if body is None else body
    if not isinstance(body, dict) or set(body) - {"deprecated_at", "replacement_id"}:
        raise Invalid("Body must be {\"deprecated_at\": \"YYYY-MM-DDThh:mm:ssZ\", "
                      "\"replacement_id\": \"<image id>\"}, both optional.")
    at = body.get("deprecated_at", now)
    try:
        datetime.strptime(at, _WIRE)
    except (TypeError, ValueError):
        raise Invalid("'deprecated_at' must be a UTC time as YYYY-MM-DDThh:mm:ssZ.") from None
    replacement = body.get("replacement_id")
    if replacement is not None and (not isinstance(replacement, str) or not replacement):
        raise Invalid("'replacement_id' must be the id of an image.")
    return at, replacement


def deprecated(properties: Mapping[str, str], at: str, replacement: str | None) -> dict[str, str]:
    """The properties of an image marked deprecated (a new mark replaces an earlier one)."""
    kept = {k: v for k, v in properties.items() if k != REPLACEMENT_PROPERTY}
    return {**kept, DEPRECATED_AT_PROPERTY: at,
            **({REPLACEMENT_PROPERTY: replacement} if replacement else {})}


def parse_resolution(params: Mapping[str, list[str]]) -> str:
    """The family of `GET /v2/images?family=F&latest=true`.

    Raises:
        Invalid: anything else in the query, or `latest` not true.
    """
    family, latest = params.get("family", []), params.get("latest", [])
    if set(params) - {"family", "latest"} or len(family) != 1 or not family[0]:
        raise Invalid("A family is resolved with exactly ?family=F&latest=true; list a "
                      "family's images with ?os_glint_family=F.")
    if latest != ["true"]:
        raise Invalid("'family' needs 'latest=true'; list a family's images with "
                      "?os_glint_family=F.")
    return family[0]
