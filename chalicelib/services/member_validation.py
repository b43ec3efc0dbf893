"""Which project validator this deployment uses before sharing (docs/policy.md)."""
from __future__ import annotations

from collections.abc import Iterable

from chalicelib import identity
from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.auth.projects import AcceptAll, KeystoneProjects, ProjectValidator
from chalicelib.config import get_settings
from chalicelib.domain.errors import Invalid


def project_validator() -> ProjectValidator:
    """Keystone lookups when GLINT_VALIDATE_MEMBER_PROJECTS is on in keystone mode; otherwise
    every id is accepted (noauth and JWT have no directory of projects to ask)."""
    settings = get_settings()
    authenticator = identity.authenticator()
    if settings.validate_member_projects and isinstance(authenticator, KeystoneAuthenticator):
        return KeystoneProjects(authenticator, settings.auth.timeout_seconds)
    return AcceptAll()


def require_known(project_ids: Iterable[str]) -> None:
    """Every id must name a project.

    Raises:
        Invalid: some do not (all of them are named).
        ServiceUnavailable: the directory of projects cannot be asked.
    """
    unknown = project_validator().unknown(project_ids)
    if unknown:
        raise Invalid(f"No such project: {', '.join(sorted(unknown))}.")
