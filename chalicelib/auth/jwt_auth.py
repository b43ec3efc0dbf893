"""OIDC bearer tokens (Cognito, Keycloak, ...) verified against the issuer's JWKS with PyJWT."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jwt
from jwt import PyJWKClient
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import PyJWKClientConnectionError, PyJWTError

from chalicelib.auth.base import AuthConfigError, role_names
from chalicelib.config import AuthSettings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import ServiceUnavailable, Unauthorized

REALM = "glint"
CHALLENGE = f'Bearer realm="{REALM}"'
# Tolerated clock skew between the issuer and Lambda for exp/nbf/iat.
_LEEWAY_SECONDS = 30
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]


class JwtAuthenticator:
    """Checks signature, issuer, audience, expiry and algorithm, then maps claims to a context."""

    def __init__(self, settings: AuthSettings, jwks: PyJWKClient | None = None) -> None:
        missing = [name for name, value in (("GLINT_JWT_ISSUER", settings.jwt_issuer),
                                            ("GLINT_JWT_AUDIENCE", settings.jwt_audience),
                                            ("GLINT_JWT_JWKS_URL", settings.jwt_jwks_url))
                   if not value]
        if missing:
            raise AuthConfigError(f"GLINT_AUTH=jwt needs {', '.join(missing)}.")
        self.token_header = settings.jwt_header
        self._settings = settings
        self._algorithms = _checked_algorithms(settings.jwt_algorithms)
        # PyJWKClient caches the key set and refetches at most once per cooldown on an unknown
        # kid, so forged kids cannot hammer the issuer.
        self._jwks = jwks or PyJWKClient(settings.jwt_jwks_url, cache_keys=True,
                                         lifespan=max(settings.cache_seconds, 1),
                                         timeout=settings.timeout_seconds)

    def authenticate(self, headers: Mapping[str, str]) -> RequestContext:
        """The context named by the token's claims.

        Raises:
            Unauthorized: no token, or it fails any check or names no project.
            ServiceUnavailable: the issuer's JWKS cannot be fetched.
        """
        raw = headers.get(self.token_header.lower(), "").strip()
        if not raw:
            raise Unauthorized(f"Authentication required: send a bearer token in "
                               f"{self.token_header}.", CHALLENGE)
        token = re.sub(r"(?i)^bearer\s+", "", raw)
        claims = self._verified_claims(token)
        project = _claim(claims, self._settings.jwt_project_claim)
        if not isinstance(project, str) or not project:
            raise _invalid(f"The token has no '{self._settings.jwt_project_claim}' claim "
                           f"naming a project.")
        roles = _claim(claims, self._settings.jwt_roles_claim)
        if isinstance(roles, str):
            # Some issuers send one space- or comma-separated string instead of a list.
            roles = re.split(r"[\s,]+", roles)
        return RequestContext(project_id=project, user_id=str(claims["sub"]),
                              roles=role_names(roles if isinstance(roles, list) else []))

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            # Refuse other algorithms before any key lookup (and before any network call).
            if jwt.get_unverified_header(token).get("alg") not in self._algorithms:
                raise _invalid("The token's signing algorithm is not accepted.")
            key = self._jwks.get_signing_key_from_jwt(token)
            return jwt.decode(token, key, algorithms=list(self._algorithms),
                              audience=self._settings.jwt_audience,
                              issuer=self._settings.jwt_issuer, leeway=_LEEWAY_SECONDS,
                              options={"require": _REQUIRED_CLAIMS})
        except PyJWKClientConnectionError as exc:
            raise ServiceUnavailable("The token issuer's keys cannot be fetched; "
                                     "try again later.") from exc
        except PyJWTError as exc:
            raise _invalid(f"The token is invalid: {exc}") from exc


def _checked_algorithms(algorithms: tuple[str, ...]) -> frozenset[str]:
    """The allow-list, refusing 'none' and HMAC (keys from a JWKS are public).

    Raises:
        AuthConfigError: the list is empty, unsafe or names an unknown algorithm.
    """
    unsafe = [a for a in algorithms if a.lower() == "none" or a.upper().startswith("HS")]
    unknown = set(algorithms) - set(get_default_algorithms())
    if not algorithms or unsafe or unknown:
        raise AuthConfigError(f"GLINT_JWT_ALGORITHMS must list asymmetric algorithms only "
                              f"(such as RS256, ES256); refused: {unsafe + sorted(unknown)}.")
    return frozenset(algorithms)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (Keycloak nests roles as `realm_access.roles`)."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _invalid(message: str) -> Unauthorized:
    return Unauthorized(message, f'{CHALLENGE}, error="invalid_token"')
