"""Who is calling: the one entry point, choosing the source of identity by settings."""
from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.auth.base import AuthConfigError, Authenticator
from chalicelib.auth import jwt_auth, keystone, noauth
from chalicelib.auth.jwt_auth import JwtAuthenticator
from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.auth.noauth import NoAuth
from chalicelib.config import Settings, get_settings
from chalicelib.domain.context import RequestContext

# Keys of the context API Gateway's authorizer hands to every function.
_PROJECT, _USER, _ROLES = "project_id", "user_id", "roles"


def authenticator() -> Authenticator:
    """The authenticator GLINT_AUTH selects for this stage.

    Raises:
        AuthConfigError: the mode is unknown or incomplete, or noauth outside the local stage
            or in AWS Lambda.
    """
    return _build(get_settings())


@functools.lru_cache(maxsize=1)
def _build(settings: Settings) -> Authenticator:
    # Cached per settings so the Keystone token cache lives as long as the configuration does.
    if settings.auth_mode == "noauth":
        # A stage name is only a setting; a function running in Lambda is deployed, whatever
        # its stage says, and must never trust headers.
        if settings.in_lambda:
            raise AuthConfigError("GLINT_AUTH=noauth (trusted headers and development tokens) "
                                  "is never allowed in AWS Lambda, whatever the stage "
                                  f"('{settings.stage}'); use keystone or jwt.")
        return NoAuth(settings.stage)
    if settings.auth_mode == "keystone":
        return KeystoneAuthenticator(settings.auth)
    if settings.auth_mode == "jwt":
        return JwtAuthenticator(settings.auth)
    raise AuthConfigError(f"Unknown GLINT_AUTH '{settings.auth_mode}': "
                          f"expected noauth, keystone or jwt.")


def challenge(settings: Settings) -> str:
    """The WWW-Authenticate challenge of the configured source, for 401s that API Gateway
    answers itself (its authorizer refused the token before any function ran)."""
    return {"keystone": lambda: keystone.challenge(settings.auth),
            "jwt": lambda: jwt_auth.CHALLENGE}.get(settings.auth_mode, lambda: noauth.CHALLENGE)()


def anonymous(headers: Mapping[str, str]) -> RequestContext:
    """The context of an unauthenticated call to a public route (version discovery)."""
    return RequestContext(project_id="", user_id="", request_id=_request_id(headers))


def _request_id(headers: Mapping[str, str]) -> str:
    return headers.get("x-openstack-request-id") or f"req-{uuid.uuid4()}"


def context_for(headers: Mapping[str, str],
                authorizer: Mapping[str, Any] | None = None) -> RequestContext:
    """The caller's context: API Gateway's authorizer result when it ran, else authenticated here.

    Raises:
        Unauthorized: the credential is missing or bad.
        ServiceUnavailable: the identity service cannot be reached.
        AuthConfigError: authentication is misconfigured for this stage.
    """
    request_id = _request_id(headers)
    # Only API Gateway (or `chalice local` running our authorizer) fills requestContext.authorizer.
    if authorizer and _PROJECT in authorizer:
        ctx = RequestContext(project_id=str(authorizer[_PROJECT]),
                             user_id=str(authorizer.get(_USER, "")),
                             roles=frozenset(r for r in str(authorizer.get(_ROLES, "")).split(",")
                                             if r))
    else:
        ctx = authenticator().authenticate(headers)
    settings = get_settings()
    return replace(ctx, request_id=request_id, policy=settings.policy,
                   protections=settings.property_protections)


def authorizer_context(ctx: RequestContext) -> dict[str, str]:
    """The context an API Gateway authorizer returns (values must be scalars, so roles are joined)."""
    return {_PROJECT: ctx.project_id, _USER: ctx.user_id, _ROLES: ",".join(sorted(ctx.roles))}
