"""Local-only identity: Glance's noauth headers, or a development token `user:project:roles`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from chalicelib.auth.base import AuthConfigError, role_names
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import Unauthorized

LOCAL_STAGE = "local"
CHALLENGE = 'Token realm="glint-local"'
# Glance's noauth defaults: an admin in project `admin`.
_DEFAULT_PROJECT = "admin"
_DEFAULT_USER = "admin"
_DEFAULT_ROLES = "admin"
# What keystoneauth's `none` plugin (`openstack --os-auth-type none`) sends as its token: it
# says "no credentials at all", as a missing header does.
_NO_CREDENTIALS = "notused"


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
        """The development token in X-Auth-Token, else (no token at all, or keystoneauth's
        `none` plugin's placeholder) the noauth headers.

        Raises:
            Unauthorized: X-Auth-Token is not a development token: never fall back to the
                headers' (or the default admin) identity for a token we cannot read.
        """
        # python-glanceclient sends the token percent-encoded (`alice%3Ap1%3Amember`).
        token = unquote(headers.get("x-auth-token", "")).strip()
        if token and token != _NO_CREDENTIALS:
            return _dev_token(token)
        project = headers.get("x-project-id") or headers.get("x-tenant-id") or _DEFAULT_PROJECT
        roles = headers.get("x-roles") or headers.get("x-role") or _DEFAULT_ROLES
        return RequestContext(project_id=project, user_id=headers.get("x-user-id") or _DEFAULT_USER,
                              roles=role_names(roles.split(",")))


def _dev_token(token: str) -> RequestContext:
    parts = token.split(":")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise Unauthorized("Malformed development token: expected 'user:project:role1,role2'.",
                           CHALLENGE)
    user, project, roles = parts
    return RequestContext(project_id=project, user_id=user, roles=role_names(roles.split(",")))
