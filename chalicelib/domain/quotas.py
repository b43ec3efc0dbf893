"""Quota rules: project limits (defaults, admin overrides, units), the arithmetic behind the
counters' conditional writes, the 413s, and the per-image bounds on properties and tags.
Standard library only."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import Invalid, QuotaExceeded
from chalicelib.domain.image import Image
from chalicelib.domain.uploads import MIB
from chalicelib.domain.usage import QUOTA_NAMES, SIZE_QUOTAS, UNLIMITED, Deltas, exceeds

# Glance stores property names in a 255-character column and values as TEXT (64 KiB).
MAX_PROPERTY_KEY_LENGTH = 255
MAX_PROPERTY_VALUE_LENGTH = 65535
# All of an image's properties together: a DynamoDB item holds at most 400 KB, and the
# image's core fields, tags and locations need their share of it.
MAX_PROPERTIES_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Quota:
    """One project limit and the project's usage, in the API's units (-1: unlimited)."""

    limit: int
    usage: int


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """Per-image bounds (Glance's image_property_quota, image_tag_quota; -1: unlimited)."""

    properties: int
    tags: int


def effective_limits(defaults: Mapping[str, int], overrides: Mapping[str, int]) -> dict[str, int]:
    """Each quota's limit for one project: its override where an admin set one."""
    return {name: overrides.get(name, defaults[name]) for name in QUOTA_NAMES}


def in_api_units(name: str, counted: int) -> int:
    """A counter as the API reports it: sizes in whole MiB, rounded down as Glance does."""
    return counted // MIB if name in SIZE_QUOTAS else counted


def report(counters: Mapping[str, int], limits: Mapping[str, int]) -> dict[str, Quota]:
    """Usage against limits for every quota, in the API's units."""
    return {name: Quota(limits[name], in_api_units(name, counters.get(name, 0)))
            for name in QUOTA_NAMES}


def ceilings(project_id: str, deltas: Deltas, limits: Mapping[str, int]) -> dict[str, int]:
    """For each counter the change raises against a limit, the highest current value that
    still leaves room for it: the conditions of one atomic reservation.

    Raises:
        QuotaExceeded: the change alone is larger than a limit.
    """
    found = {}
    for name, delta in deltas.items():
        limit = limits[name]
        if delta <= 0 or limit == UNLIMITED:
            continue
        ceiling = _counted_limit(name, limit) - delta
        if ceiling < 0:
            raise over_limit(project_id, name, deltas, limits, counters={})
        found[name] = ceiling
    return found


def first_exceeded(counters: Mapping[str, int], deltas: Deltas,
                   limits: Mapping[str, int]) -> str | None:
    """The first quota that `counters` plus `deltas` would break, if any."""
    for name, delta in deltas.items():
        if delta > 0 and exceeds(counters.get(name, 0) + delta,
                                 _counted_limit(name, limits[name])):
            return name
    return None


def over_limit(project_id: str, name: str, deltas: Deltas, limits: Mapping[str, int],
               counters: Mapping[str, int]) -> QuotaExceeded:
    """The 413 for one quota, worded as Glance's unified limits (oslo.limit) word it."""
    limit = limits[name]
    used = in_api_units(name, counters.get(name, 0))
    delta = deltas[name]
    delta = math.ceil(delta / MIB) if name in SIZE_QUOTAS else delta
    unit = " MiB" if name in SIZE_QUOTAS else ""
    return QuotaExceeded(
        f"Project {project_id} is over a limit for [Resource {name} is over limit of "
        f"{limit}{unit} due to current usage {used}{unit} and delta {delta}{unit}]",
        details={"quota": name, "limit": limit, "usage": used, "delta": delta})


def parse_overrides(body: Any) -> dict[str, int | None]:
    """An admin's `{"image_size_total": 1024, "image_count_total": null, ...}`: a limit per
    quota (sizes in MiB; -1 unlimited; null back to the deployment's default).

    Raises:
        Invalid: not an object of known quota names to integers >= -1 or null.
    """
    if not isinstance(body, dict) or not body:
        raise Invalid(f"Request body must be an object of quota limits: {', '.join(QUOTA_NAMES)}.")
    unknown = sorted(set(body) - set(QUOTA_NAMES))
    if unknown:
        raise Invalid(f"Unknown quota {unknown[0]}; quotas are {', '.join(QUOTA_NAMES)}.")
    for name, value in body.items():
        if value is not None and (type(value) is not int or value < UNLIMITED):
            raise Invalid(f"Limit for {name} must be an integer >= -1 (-1: unlimited) or null.")
    return dict(body)


def check_image(before: Image | None, after: Image, limits: ImageLimits) -> None:
    """Bound an image's properties and tags on create (`before` None) and on change. Like
    Glance, counts are enforced only when they grow: an image already over a lowered limit
    may still shed properties and tags.

    Raises:
        Invalid: a property name or value is too long.
        QuotaExceeded: too many properties or tags, or too many property bytes.
    """
    for key, value in after.properties.items():
        if len(key) > MAX_PROPERTY_KEY_LENGTH:
            raise Invalid(f"Property name '{key[:40]}...' is longer than "
                          f"{MAX_PROPERTY_KEY_LENGTH} characters.")
        if len(value) > MAX_PROPERTY_VALUE_LENGTH:
            raise Invalid(f"Property '{key}' is longer than {MAX_PROPERTY_VALUE_LENGTH} "
                          "characters.")
    old_properties = before.properties if before else {}
    old_tags = before.tags if before else ()
    _require_count("image properties", len(old_properties), len(after.properties),
                   limits.properties)
    _require_count("image tags", len(old_tags), len(after.tags), limits.tags)
    size = _properties_bytes(after.properties)
    if size > MAX_PROPERTIES_BYTES and size > _properties_bytes(old_properties):
        raise QuotaExceeded(f"Image properties would take {size} bytes; at most "
                            f"{MAX_PROPERTIES_BYTES} are allowed per image.")


def _require_count(what: str, before: int, after: int, limit: int) -> None:
    if after > before and exceeds(after, limit):
        raise QuotaExceeded(f"The limit has been exceeded on the number of allowed {what}. "
                            f"Attempted: {after}, Maximum: {limit}",
                            details={"limit": limit, "attempted": after})


def _properties_bytes(properties: Mapping[str, str]) -> int:
    return sum(len(k.encode()) + len(v.encode()) for k, v in properties.items())


def _counted_limit(name: str, limit: int) -> int:
    """A limit in counter units (bytes for sizes); -1 stays -1."""
    return limit * MIB if name in SIZE_QUOTAS and limit != UNLIMITED else limit
