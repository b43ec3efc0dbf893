"""Who is calling: the identity every use case is given."""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.policy_rules import Policy, defaults
from chalicelib.domain.property_protections import PropertyProtections


@dataclass(frozen=True, slots=True)
class RequestContext:
    """The caller's project, user and roles, however they were authenticated, and the rules
    this deployment judges them by (as Glance's context carries its policy enforcer)."""

    project_id: str
    user_id: str
    roles: frozenset[str] = frozenset()
    request_id: str = ""
    policy: Policy = field(default_factory=defaults, repr=False, compare=False)
    # None: property protections are off (no GLINT_PROPERTY_PROTECTION_FILE).
    protections: PropertyProtections | None = field(default=None, repr=False, compare=False)

    @property
    def credentials(self) -> dict[str, object]:
        """What policy checks compare: `role:`, `project_id:`, `user_id:`."""
        return {"roles": self.roles, "project_id": self.project_id, "user_id": self.user_id}

    @property
    def is_admin(self) -> bool:
        """Glance's default `role:admin` check."""
        return "admin" in self.roles
