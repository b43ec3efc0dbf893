"""Who may see and change the metadefs catalog. Pure functions over the context and namespace."""
from __future__ import annotations

from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Forbidden, NotFound
from chalicelib.domain.metadefs import Namespace


def can_see(ctx: RequestContext, namespace: Namespace) -> bool:
    """Admins see every namespace; others public ones and their own project's."""
    return ctx.is_admin or namespace.visibility == "public" or namespace.owner == ctx.project_id


def require_visible(ctx: RequestContext, namespace: Namespace) -> Namespace:
    """Return the namespace, or pretend it does not exist (404, not 403).

    Raises:
        NotFound: the caller may not see the namespace.
    """
    if not can_see(ctx, namespace):
        raise NotFound(not_found_message(namespace.namespace))
    return namespace


def require_admin(ctx: RequestContext, action: str) -> None:
    """Writes to the catalog are for admins (Glance's default metadef policies).

    Raises:
        Forbidden: the caller is not an admin.
    """
    if not ctx.is_admin:
        raise Forbidden(f"You are not authorized to complete {action} action.")


def require_unprotected(namespace: Namespace, what: str) -> None:
    """Nothing may be deleted from a protected namespace, nor the namespace itself.

    Raises:
        Forbidden: the namespace is protected.
    """
    if namespace.protected:
        raise Forbidden(f"Namespace {namespace.namespace} is protected: {what} cannot be "
                        "deleted. Set 'protected' to false first.")


def not_found_message(name: str) -> str:
    """Glance's wording for a missing (or hidden) namespace."""
    return f"Metadata definition namespace={name} was not found."
