"""Local-only identity: Glance's noauth headers, or a development token `user:project:roles`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chalicelib.auth.base import AuthConfigError, role_names
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Unauthorized

LOCAL_STAGE = "local"
CHALLENGE = 'Token realm="glint-local"'
# Glance's noauth defaults: an admin in project `admin`.
_DEFAULT_PROJECT = "admin"
_DEFAULT_USER = "admin"
_DEFAULT_ROLES = "admin"


@dataclass(frozen=True, slots=True)
class NoAuth:
    """Trusts what the client says; constructing it outside the local stage fails."""

    stage: str
    token_header: str = "X-Auth-Token"

    def __post_init__(self) -> None:
        # The one gate: no configuration can turn trusted headers on in a deployed stage.
        if self.stage != LOCAL_STAGE:
            raise AuthConfigError(
                f"GLINT_AUTH=noauth (trusted headers and development tokens) is only allowed in "
                f"the '{LOCAL_STAGE}' stage, not in '{self.stage}'; use keystone or jwt.")

    def authenticate(self, headers: Mapping[str, str]) -> RequestContext:
        """A development token when X-Auth-Token holds one, else the noauth headers.

        Raises:
            Unauthorized: X-Auth-Token looks like a development token but is malformed.
        """
        token = headers.get("x-auth-token", "")
        # Any other token is ignored, as Glance's noauth does, so `--os-token anything` works.
        if ":" in token:
            return _dev_token(token)
        project = headers.get("x-project-id") or headers.get("x-tenant-id") or _DEFAULT_PROJECT
        roles = headers.get("x-roles") or headers.get("x-role") or _DEFAULT_ROLES
        return RequestContext(project_id=project, user_id=headers.get("x-user-id") or _DEFAULT_USER,
                              roles=role_names(roles.split(",")))


def _dev_token(token: str) -> RequestContext:
    parts = token.strip().split(":")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise Unauthorized("Malformed development token: expected 'user:project:role1,role2'.",
                           CHALLENGE)
    user, project, roles = parts
    return RequestContext(project_id=project, user_id=user, roles=role_names(roles.split(",")))
