"""Who is calling. One small interface; the sources behind it are chosen per stage."""
from __future__ import annotations

import uuid
from collections.abc import Mapping

from chalicelib.config import get_settings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Unauthorized

# Glance's noauth defaults: an admin in project `admin`.
_DEFAULT_PROJECT = "admin"
_DEFAULT_ROLES = "admin"


def context_from_headers(headers: Mapping[str, str]) -> RequestContext:
    """Build the request context from the request's headers.

    Raises:
        Unauthorized: this stage has no accepted source of identity for the request.
    """
    settings = get_settings()
    request_id = headers.get("x-openstack-request-id") or f"req-{uuid.uuid4()}"
    if settings.auth_mode == "noauth" and settings.stage == "local":
        return _noauth(headers, request_id)
    raise Unauthorized(f"Authentication mode '{settings.auth_mode}' is not available in "
                       f"stage '{settings.stage}'.")


def _noauth(headers: Mapping[str, str], request_id: str) -> RequestContext:
    # Glance's noauth: trust the identity headers a proxy in front would have set.
    project = headers.get("x-project-id") or headers.get("x-tenant-id") or _DEFAULT_PROJECT
    roles = headers.get("x-roles") or headers.get("x-role") or _DEFAULT_ROLES
    return RequestContext(
        project_id=project,
        user_id=headers.get("x-user-id") or "admin",
        roles=frozenset(r.strip().lower() for r in roles.split(",") if r.strip()),
        request_id=request_id,
    )
