"""Glance's property protections (`property_protection_rule_format = roles`).

An INI file: each section header is a regular expression over property names, and each
section lists the roles that may create, read, update and delete matching properties
(`@`: everyone, `!`: nobody, empty: nobody). The first section that matches a name decides
(Glance searches, so anchor patterns with `^`); a name no section matches is denied.
Core image attributes are never subject to it. Standard library only.
"""
from __future__ import annotations

import configparser
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from chalicelib.domain.errors import Forbidden
from chalicelib.domain.policy_rules import effective_roles

OPERATIONS = ("create", "read", "update", "delete")
EVERYONE, NOBODY = "@", "!"


class PropertyProtectionConfigError(RuntimeError):
    """The property-protection file cannot be used; the app refuses to start with it."""


@dataclass(frozen=True, slots=True)
class Section:
    """One `[regex]` section: the roles allowed per operation."""

    pattern: re.Pattern[str]
    create: frozenset[str]
    read: frozenset[str]
    update: frozenset[str]
    delete: frozenset[str]


@dataclass(frozen=True, slots=True)
class PropertyProtections:
    """The sections of one file, in file order."""

    sections: tuple[Section, ...]

    def allows(self, roles: Iterable[str], name: str, operation: str) -> bool:
        """Whether a caller with `roles` may do `operation` to property `name`."""
        for section in self.sections:
            if section.pattern.search(name):
                allowed: frozenset[str] = getattr(section, operation)
                if NOBODY in allowed:
                    return False
                return EVERYONE in allowed or bool(allowed & effective_roles(roles))
        return False


@cache
def load(path: str) -> PropertyProtections:
    """The protections in the file at `path`.

    Raises:
        PropertyProtectionConfigError: the file is missing or malformed.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return parse(handle.read(), path)
    except OSError as exc:
        raise PropertyProtectionConfigError(
            f"Cannot read property protection file {path}: {exc}") from exc


def parse(text: str, source: str = "<string>") -> PropertyProtections:
    """Parse a roles-format property-protection file.

    Raises:
        PropertyProtectionConfigError: not INI, no sections, a bad regex, an operation
            missing or misspelt, or `@` and `!` together.
    """
    # No interpolation (regexes hold '%'); no DEFAULT section, so `[DEFAULT]` is a pattern too.
    parser = configparser.ConfigParser(interpolation=None, default_section="\0")
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        raise PropertyProtectionConfigError(f"{source} is not a valid INI file: {exc}") from exc
    if not parser.sections():
        raise PropertyProtectionConfigError(f"{source} defines no property sections.")
    return PropertyProtections(tuple(_section(parser, name, source)
                                     for name in parser.sections()))


def _section(parser: configparser.ConfigParser, name: str, source: str) -> Section:
    def fail(problem: str) -> PropertyProtectionConfigError:
        return PropertyProtectionConfigError(f"{source} [{name}]: {problem}")
    try:
        pattern = re.compile(name)
    except re.error as exc:
        raise fail(f"not a valid regular expression: {exc}") from exc
    options = set(parser.options(name))
    if options - set(OPERATIONS):
        raise fail(f"unknown operation(s) {sorted(options - set(OPERATIONS))}; "
                   f"expected {', '.join(OPERATIONS)}")
    if set(OPERATIONS) - options:
        raise fail(f"missing operation(s) {sorted(set(OPERATIONS) - options)}")
    roles = {}
    for operation in OPERATIONS:
        listed = frozenset(r.strip().lower() for r in parser.get(name, operation).split(",")
                           if r.strip())
        if EVERYONE in listed and NOBODY in listed:
            raise fail(f"{operation}: '@' and '!' are mutually exclusive")
        roles[operation] = listed
    return Section(pattern=pattern, **roles)


def require(protections: PropertyProtections | None, roles: Iterable[str], name: str,
            operation: str) -> None:
    """Refuse `operation` on property `name` unless the protections (if enabled) allow it.

    Raises:
        Forbidden: the caller's roles may not do it.
    """
    if protections is not None and not protections.allows(roles, name, operation):
        raise Forbidden(f"Property '{name}' is protected: you may not {operation} it.")


def unreadable(protections: PropertyProtections | None, roles: Iterable[str],
               names: Iterable[str]) -> frozenset[str]:
    """The property names the caller may not read (all readable when protections are off)."""
    if protections is None:
        return frozenset()
    return frozenset(n for n in names if not protections.allows(roles, n, "read"))
