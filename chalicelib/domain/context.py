"""Who is calling: the identity every use case is given."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The caller's project, user and roles, however they were authenticated."""

    project_id: str
    user_id: str
    roles: frozenset[str] = frozenset()
    request_id: str = ""

    @property
    def is_admin(self) -> bool:
        """Glance's default `role:admin` check."""
        return "admin" in self.roles
