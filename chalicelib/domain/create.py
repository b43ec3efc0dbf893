"""Building a new image from a create request, with Glance's rules."""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.domain import policy, property_protections
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, Invalid
from chalicelib.domain.image import READ_ONLY_FIELDS, WRITABLE_FIELDS, Image, is_reserved
from chalicelib.domain.schema import validate_image_document

# On create (only) a client may choose the id, and an admin the owner.
_SETTABLE_ON_CREATE = frozenset({"id", "owner"})


def new_image(ctx: RequestContext, body: Any, now: str) -> Image:
    """Validate a `POST /v2/images` body and build the queued image.

    Raises:
        Invalid: the body is not an object or breaks the schema.
        Forbidden: it sets a read-only or reserved attribute or a protected property, a
            visibility or owner the policy refuses, or the caller may not create images.
    """
    if not isinstance(body, dict):
        raise Invalid("Request body must be a JSON object.")
    for name in body:
        if name in READ_ONLY_FIELDS - _SETTABLE_ON_CREATE:
            raise Forbidden(f"Attribute '{name}' is read-only.")
        if is_reserved(name):
            raise Forbidden(f"Attribute '{name}' is reserved.")
    validate_image_document(body)
    owner = body.get("owner") or ctx.project_id
    visibility = body.get("visibility", "shared")
    # Glance's add_image: another project's image (`owner`) only for admins.
    policy.require_allowed(ctx, "add_image", {"project_id": owner, "owner": owner,
                                              "visibility": visibility})
    policy.require_may_publicize(ctx, visibility, owner)
    core = {k: body[k] for k in WRITABLE_FIELDS if body.get(k) is not None}
    if "tags" in core:
        core["tags"] = tuple(dict.fromkeys(core["tags"]))
    properties = {k: v for k, v in body.items()
                  if k not in WRITABLE_FIELDS and k not in READ_ONLY_FIELDS}
    for name in properties:
        property_protections.require(ctx.protections, ctx.roles, name, "create")
    return Image(id=body.get("id") or str(uuid.uuid4()), owner=owner, created_at=now,
                 updated_at=now, **core, properties=properties)
