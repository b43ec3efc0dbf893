"""Per-project usage counters: reservations as one conditional UpdateItem each, releases and
settlements as plain atomic ADDs, and the limits an admin set for the project."""
from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.db.models import UsageModel, bound
from chalicelib.db.writes import conditional
from chalicelib.domain import quotas
from chalicelib.domain.errors import QuotaExceeded
from chalicelib.domain.usage import QUOTA_NAMES, Deltas

# Where an admin's limit for quota `q` is kept on the project's item.
_LIMIT = "limit_{}"


@dataclass(frozen=True, slots=True)
class ProjectUsage:
    """A project's counters (sizes in bytes) and its limit overrides (in the API's units)."""

    counters: dict[str, int] = field(default_factory=dict)
    overrides: dict[str, int] = field(default_factory=dict)


def read(project_id: str) -> ProjectUsage:
    """The project's counters and overrides (zeros and none for a project never charged)."""
    try:
        item = bound(UsageModel).get(project_id, consistent_read=True)
    except DoesNotExist:
        return ProjectUsage()
    counters = {name: int(getattr(item, name) or 0) for name in QUOTA_NAMES}
    overrides = {name: int(value) for name in QUOTA_NAMES
                 if (value := getattr(item, _LIMIT.format(name))) is not None}
    return ProjectUsage(counters, overrides)


def reserve(project_id: str, deltas: Deltas, limits: Mapping[str, int]) -> None:
    """Add `deltas` to the counters in one atomic write that succeeds only if every counter
    it raises stays within its limit: concurrent reservations can never overshoot.

    Raises:
        QuotaExceeded: a limit would be exceeded (nothing was changed).
    """
    ceilings = quotas.ceilings(project_id, deltas, limits)
    if not conditional(lambda: _add(project_id, deltas, _within(ceilings))):
        raise over_limit(project_id, deltas, limits)


def over_limit(project_id: str, deltas: Deltas, limits: Mapping[str, int]) -> QuotaExceeded:
    """The error for a reservation of `deltas` that a limit refused."""
    counters = read(project_id).counters
    ceilings = quotas.ceilings(project_id, deltas, limits)
    # Read after the failure: a release in between may hide which one it was.
    name = quotas.first_exceeded(counters, deltas, limits) or next(iter(ceilings))
    return quotas.over_limit(project_id, name, deltas, limits, counters)


def apply(project_id: str, deltas: Deltas) -> None:
    """Add `deltas` unconditionally: releases, and settling a reservation to real usage."""
    _add(project_id, deltas, None)


def add_in(writes: TransactWrite, project_id: str, deltas: Deltas,
           limits: Mapping[str, int] | None = None) -> None:
    """Add `deltas` to the counters as part of a transaction (the image write they account
    for); with `limits`, the transaction applies only if every raised counter stays within."""
    model = bound(UsageModel)
    actions = [getattr(model, name).add(delta) for name, delta in deltas.items() if delta]
    if actions:
        condition = _within(quotas.ceilings(project_id, deltas, limits)) if limits else None
        writes.update(model(project_id), actions=actions, condition=condition)


def correct(project_id: str, read_as: Mapping[str, int], to: Mapping[str, int]) -> bool:
    """Move the counters from `read_as` to `to` in one write, only if they still hold what
    was read (no charge or release came in between); True if applied."""
    model = bound(UsageModel)
    deltas = {name: to.get(name, 0) - read_as.get(name, 0) for name in QUOTA_NAMES}
    actions = [getattr(model, name).add(delta) for name, delta in deltas.items() if delta]
    if not actions:
        return True
    unchanged = [getattr(UsageModel, name) == read_as[name] if read_as.get(name)
                 else (getattr(UsageModel, name).does_not_exist()
                       | (getattr(UsageModel, name) == 0)) for name in QUOTA_NAMES]
    condition = functools.reduce(operator.and_, unchanged)
    return conditional(lambda: model(project_id).update(actions=actions, condition=condition))


def set_overrides(project_id: str, limits: Mapping[str, int | None]) -> None:
    """Set the project's own limits; None removes one (back to the deployment's default)."""
    model = bound(UsageModel)
    actions = [getattr(model, _LIMIT.format(name)).remove() if limit is None
               else getattr(model, _LIMIT.format(name)).set(limit)
               for name, limit in limits.items()]
    if actions:
        model(project_id).update(actions=actions)


def _add(project_id: str, deltas: Deltas, condition: Condition | None) -> None:
    model = bound(UsageModel)
    actions = [getattr(model, name).add(delta) for name, delta in deltas.items() if delta]
    if actions:
        model(project_id).update(actions=actions, condition=condition)


def _within(ceilings: Mapping[str, int]) -> Condition | None:
    """One named part per raised counter, all required: not counted yet, or at most its
    ceiling (the limit less the delta)."""
    parts = []
    for name, ceiling in ceilings.items():
        counter = getattr(UsageModel, name)
        not_counted_yet = counter.does_not_exist()
        room_for_delta = counter <= ceiling
        parts.append(not_counted_yet | room_for_delta)
    return functools.reduce(operator.and_, parts) if parts else None
