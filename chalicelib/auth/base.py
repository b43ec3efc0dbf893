"""The interface every source of identity implements, and what the sources share."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from chalicelib.domain.context import RequestContext


class AuthConfigError(RuntimeError):
    """The configured authentication cannot run here; the app refuses to start with it."""


class Authenticator(Protocol):
    """Turns a request's headers into the caller's identity."""

    # The one header that carries the credential; API Gateway's TOKEN authorizer reads it.
    token_header: str

    def authenticate(self, headers: Mapping[str, str]) -> RequestContext:
        """The caller's context (without request id); headers are looked up by lower-case name.

        Raises:
            Unauthorized: the credential is missing or bad (with its WWW-Authenticate challenge).
            ServiceUnavailable: the identity service cannot be reached.
        """
        ...


def role_names(names: Iterable[object]) -> frozenset[str]:
    """Role names as the policy compares them: stripped, lower-case, no empties."""
    return frozenset(n.strip().lower() for n in names if isinstance(n, str) and n.strip())
