"""Domain errors, named by meaning; the API maps each family to one HTTP status."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GlintError(Exception):
    """Base of every error a caller may see; `message` is shown to the user, and `details`
    (machine-readable facts, such as a quota's limit and usage) beside it."""

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details or {})


class Unauthorized(GlintError):
    """No credential, or one that this deployment does not accept."""

    def __init__(self, message: str, www_authenticate: str = "") -> None:
        super().__init__(message)
        # The challenge for the 401's WWW-Authenticate header (RFC 9110 requires one).
        self.www_authenticate = www_authenticate


class ServiceUnavailable(GlintError):
    """A service this request depends on (such as Keystone) cannot be reached; retry later."""


class NotFound(GlintError):
    """The thing does not exist, or the caller may not know that it does."""


class Forbidden(GlintError):
    """The caller can see the thing but may not do this to it."""


class Invalid(GlintError):
    """The request is malformed or breaks a schema rule."""


class UnsupportedMediaType(Invalid):
    """The request body has a content type this call does not take."""


class Conflict(GlintError):
    """The request is valid but the thing is in the wrong state for it."""


class InvalidTransition(Conflict):
    """The image's status does not allow the requested change."""


class StaleWrite(Conflict):
    """Someone else changed the record first; re-read and try again."""


class QuotaExceeded(GlintError):
    """A size or count limit would be exceeded (`details` carry the limit and usage)."""


class ImageRejected(GlintError):
    """The uploaded bytes failed verification (checksum, size, format or safety)."""


class SignatureRejected(ImageRejected):
    """The data does not match its img_signature, or the signing certificate is unusable
    (Glance answers 400)."""


class ImportRefused(Invalid):
    """An import source URI that the deployment's policy forbids (Glance answers 400)."""


class FetchFailed(ImageRejected):
    """An import source could not be read in full: HTTP error, too slow, too large."""


class StoreFailed(ServiceUnavailable):
    """A store could not take, give or drop data (no such bucket, access denied, unreachable)."""
