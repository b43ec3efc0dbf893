"""Does a project exist? Asked before sharing an image with it, so a typo in a member id
does not silently share with nobody (GLINT_VALIDATE_MEMBER_PROJECTS)."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol
from urllib.parse import quote

import requests

from chalicelib.auth.keystone import KeystoneAuthenticator
from chalicelib.domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)


class ProjectValidator(Protocol):
    """Tells which of some project ids name no project."""

    def unknown(self, project_ids: Iterable[str]) -> frozenset[str]:
        """The ids that name no project.

        Raises:
            ServiceUnavailable: the directory of projects cannot be asked.
        """
        ...


class AcceptAll:
    """No directory to ask (validation off, or no Keystone): every id is taken as given."""

    def unknown(self, project_ids: Iterable[str]) -> frozenset[str]:
        """None of them."""
        return frozenset()


class KeystoneProjects:
    """Looks projects up with `GET /v3/projects/{id}`, as Glint's service user (which needs
    Keystone's `identity:get_project` on them, e.g. the reader role on the system)."""

    def __init__(self, keystone: KeystoneAuthenticator, timeout_seconds: float) -> None:
        self._keystone = keystone
        self._timeout = timeout_seconds

    def unknown(self, project_ids: Iterable[str]) -> frozenset[str]:
        """The ids Keystone answers 404 for.

        Raises:
            ServiceUnavailable: Keystone is down, or refuses Glint's service user.
        """
        return frozenset(p for p in dict.fromkeys(project_ids) if not self._exists(p))

    def _exists(self, project_id: str) -> bool:
        response = self._get(project_id, renew=False)
        if response.status_code == 401:  # our token was revoked or expired early: once more
            response = self._get(project_id, renew=True)
        if response.status_code in (200, 404):
            return response.status_code == 200
        log.error("keystone refused a project lookup", extra={"status": response.status_code})
        raise ServiceUnavailable(f"Keystone answered {response.status_code} while checking "
                                 f"project {project_id}; try again later.")

    def _get(self, project_id: str, renew: bool) -> requests.Response:
        token = self._keystone.service_token(renew=renew)
        if token is None:
            raise ServiceUnavailable("Checking member projects needs Glint's Keystone service "
                                     "credentials (GLINT_KEYSTONE_USERNAME or _SECRET_ID).")
        url = f"{self._keystone.v3_url}/projects/{quote(project_id, safe='')}"
        try:
            return self._keystone.session.get(url, headers={"X-Auth-Token": token},
                                              timeout=self._timeout)
        except requests.RequestException as exc:
            log.error("keystone unreachable", extra={"error": str(exc)})
            raise ServiceUnavailable("Keystone cannot be reached; try again later.") from exc
