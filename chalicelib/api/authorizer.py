"""API Gateway's TOKEN authorizer: bad credentials are turned away before any view runs."""
from __future__ import annotations

import logging

from chalice import Blueprint
from chalice.app import AuthRequest, AuthResponse, ChaliceAuthorizer

from chalicelib import identity, logs
from chalicelib.auth.noauth import LOCAL_STAGE
from chalicelib.config import get_settings
from chalicelib.domain.errors import Unauthorized

log = logging.getLogger(__name__)
bp = Blueprint(__name__)
# Lambda loads this module itself (not app.py) for its functions: set up logging here too.
logs.configure()


class GatewayUnauthorized(Exception):
    """Raised with the message 'Unauthorized', the one failure API Gateway turns into a 401."""


# Built at import on purpose: `chalice deploy` imports the app with the stage's environment, so a
# stage configured with noauth (or an incomplete keystone/jwt setup) fails to deploy.
@bp.authorizer(name="glint_auth", header=identity.authenticator().token_header,
               ttl_seconds=get_settings().auth.cache_seconds)
def glint_auth(auth_request: AuthRequest) -> AuthResponse:
    """Authenticate the token and hand project, user and roles to the function.

    Raises:
        GatewayUnauthorized: the credential is bad (API Gateway answers 401).
        ServiceUnavailable: the identity service is down (API Gateway's AUTHORIZER_FAILURE,
            mapped to 503 as docs/auth.md describes).
    """
    authenticator = identity.authenticator()
    try:
        ctx = authenticator.authenticate({authenticator.token_header.lower(): auth_request.token})
    except Unauthorized as exc:
        log.info("credential rejected", extra={"reason": exc.message})
        raise GatewayUnauthorized("Unauthorized") from exc
    # Allow every route: API Gateway caches this result per token and reuses it for all of them.
    return AuthResponse(routes=["*"], principal_id=ctx.user_id,
                        context=identity.authorizer_context(ctx))


def for_routes() -> ChaliceAuthorizer | None:
    """The authorizer views are registered with: ours in deployed stages, none locally."""
    # `chalice local` hands authorizers only the Authorization header, so local runs
    # (any GLINT_AUTH) authenticate in the routing wrapper instead.
    return None if get_settings().stage == LOCAL_STAGE else glint_auth
