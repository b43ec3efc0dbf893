"""Keystone v3 tokens: validated with GET /v3/auth/tokens, cached until shortly before expiry."""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.auth.base import AuthConfigError, role_names
from chalicelib.auth.cache import TokenCache
from chalicelib.config import AuthSettings
from chalicelib.domain.context import RequestContext
from chalicelib.domain.errors import ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

# Stop trusting a cached token (ours or a caller's) this long before Keystone says it expires.
_EXPIRY_MARGIN_SECONDS = 30
_MAX_CACHED_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class ServiceCredentials:
    """The service user Glint validates tokens as (keystoneauth's password plugin fields)."""

    username: str
    password: str = field(repr=False)
    project_name: str = "service"
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"


def challenge(settings: AuthSettings) -> str:
    """The WWW-Authenticate challenge of a 401: where to get a token (as keystonemiddleware)."""
    return f'Keystone uri="{settings.keystone_url}"'


class KeystoneAuthenticator:
    """Validates X-Auth-Token against Keystone v3 and maps project, user and roles."""

    token_header = "X-Auth-Token"

    def __init__(self, settings: AuthSettings, session: requests.Session | None = None) -> None:
        if not settings.keystone_url:
            raise AuthConfigError("GLINT_AUTH=keystone needs GLINT_KEYSTONE_URL.")
        self._settings = settings
        # Accept the auth URL with or without the version, as clients' OS_AUTH_URL varies.
        self._v3 = settings.keystone_url.rstrip("/").removesuffix("/v3") + "/v3/auth/tokens"
        self._challenge = challenge(settings)
        self._session = session or requests.Session()
        self._cache = TokenCache(_MAX_CACHED_TOKENS)
        self._service_token: tuple[str, float] | None = None
        self._service_lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str]) -> RequestContext:
        """The context of the caller's Keystone token, from the cache when still fresh.

        Raises:
            Unauthorized: no token, or Keystone says it is invalid, expired or not project-scoped.
            ServiceUnavailable: Keystone cannot be reached or rejects Glint's service credentials.
        """
        token = headers.get("x-auth-token", "").strip()
        if not token:
            raise Unauthorized("Authentication required: send a Keystone token in X-Auth-Token.",
                               self._challenge)
        # Key by digest so the cache never holds usable credentials.
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        ctx, expires_at = self._context(self._validate(token))
        if expires_at <= time.time():
            raise Unauthorized("The token has expired.", self._challenge)
        self._cache.put(key, ctx, min(expires_at - _EXPIRY_MARGIN_SECONDS,
                                      time.time() + self._settings.cache_seconds))
        return ctx

    def _validate(self, token: str) -> dict[str, Any]:
        response = self._check(token)
        if response.status_code == 401 and self._credentials is not None:
            # Our service token was revoked or expired early: get a new one, once.
            self._service_token = None
            response = self._check(token)
        if response.status_code == 404 or (response.status_code == 401
                                           and self._credentials is None):
            raise Unauthorized("The token is invalid, expired or revoked.", self._challenge)
        if response.status_code != 200:
            log.error("keystone refused token validation", extra={"status": response.status_code})
            raise ServiceUnavailable(f"Keystone answered {response.status_code} while "
                                     f"validating the token; try again later.")
        token_document = _json(response).get("token")
        if not isinstance(token_document, dict):
            raise ServiceUnavailable("Keystone answered without a token document.")
        return token_document

    def _check(self, token: str) -> requests.Response:
        return self._call("GET", headers={"X-Auth-Token": self._validator(token),
                                          "X-Subject-Token": token})

    def _validator(self, subject: str) -> str:
        """The token to validate with: the service token, else the subject itself (Keystone's
        default policy lets a token validate itself)."""
        return self.service_token() or subject

    def service_token(self, renew: bool = False) -> str | None:
        """Glint's own token (issued once, renewed before expiry or when `renew`), or None
        without service credentials.

        Raises:
            ServiceUnavailable: Keystone cannot be reached or refuses the credentials.
        """
        credentials = self._credentials
        if credentials is None:
            return None
        with self._service_lock:
            if renew or self._service_token is None or self._service_token[1] <= time.time():
                self._service_token = self._issue(credentials)
            return self._service_token[0]

    @property
    def v3_url(self) -> str:
        """Keystone's v3 API root."""
        return self._v3.removesuffix("/auth/tokens")

    @property
    def session(self) -> requests.Session:
        """The HTTP session (and connection pool) used to talk to Keystone."""
        return self._session

    def _issue(self, credentials: ServiceCredentials) -> tuple[str, float]:
        user = {"name": credentials.username, "password": credentials.password,
                "domain": {"name": credentials.user_domain_name}}
        scope = {"project": {"name": credentials.project_name,
                             "domain": {"name": credentials.project_domain_name}}}
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                         "scope": scope}}
        response = self._call("POST", json=body)
        token = response.headers.get("X-Subject-Token")
        if response.status_code != 201 or not token:
            log.error("keystone refused the service credentials",
                      extra={"status": response.status_code})
            raise ServiceUnavailable("Glint cannot authenticate to Keystone; try again later.")
        expires_at = _timestamp((_json(response).get("token") or {}).get("expires_at"))
        return token, expires_at - _EXPIRY_MARGIN_SECONDS

    @functools.cached_property
    def _credentials(self) -> ServiceCredentials | None:
        """Service credentials, from Secrets Manager when a secret is named (read once)."""
        settings = self._settings
        if settings.keystone_secret_id:
            return _credentials_from_secret(settings.keystone_secret_id)
        if settings.keystone_username:
            return ServiceCredentials(settings.keystone_username, settings.keystone_password,
                                      settings.keystone_project, settings.keystone_user_domain,
                                      settings.keystone_project_domain)
        return None

    def _call(self, method: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, self._v3, timeout=self._settings.timeout_seconds,
                                         **kwargs)
        except requests.RequestException as exc:
            log.error("keystone unreachable", extra={"error": str(exc)})
            raise ServiceUnavailable("Keystone cannot be reached; try again later.") from exc

    def _context(self, token: Mapping[str, Any]) -> tuple[RequestContext, float]:
        project = token.get("project") or {}
        if not project.get("id"):
            raise Unauthorized("The token is not scoped to a project.", self._challenge)
        ctx = RequestContext(project_id=project["id"],
                             user_id=(token.get("user") or {}).get("id", ""),
                             roles=role_names(r.get("name") for r in token.get("roles") or []))
        return ctx, _timestamp(token.get("expires_at"))


def _credentials_from_secret(secret_id: str) -> ServiceCredentials:
    """Read the secret's JSON (keystoneauth names: username, password, project_name, ...).

    Raises:
        ServiceUnavailable: the secret cannot be read or has no username and password.
    """
    try:
        raw = aws.secretsmanager().get_secret_value(SecretId=secret_id)["SecretString"]
        values = json.loads(raw)
        return ServiceCredentials(**{k: values[k] for k in ServiceCredentials.__dataclass_fields__
                                     if k in values})
    except (BotoCoreError, ClientError, KeyError, TypeError, ValueError) as exc:
        log.error("keystone service secret unreadable", extra={"secret_id": secret_id})
        raise ServiceUnavailable("Glint's Keystone service credentials are unavailable.") from exc


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ServiceUnavailable("Keystone answered with malformed JSON.") from exc
    if not isinstance(body, dict):
        raise ServiceUnavailable("Keystone answered with an unexpected document.")
    return body


def _timestamp(value: object) -> float:
    """Keystone's `expires_at` (ISO 8601, UTC) as epoch seconds.

    Raises:
        ServiceUnavailable: the value is missing or not a timestamp.
    """
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ServiceUnavailable("Keystone answered with an unreadable expiry.") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
