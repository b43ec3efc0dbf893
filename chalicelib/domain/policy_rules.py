"""Authorization rules as data: oslo.policy's check-string language, parsed once, evaluated here.

Supported: `@` (always), `!` (never), the empty string (always), `rule:<name>`,
`role:<name>`, `<credential>:<literal or %(target)s>` (e.g. `project_id:%(owner)s`),
`'<literal>':%(target)s`, `and`, `or`, `not` and parentheses. Standard library only.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Union

DEFAULTS_FILE = Path(__file__).with_name("policy_defaults.json")
# Keystone's default role hierarchy (admin implies member implies reader): tokens carry the
# implied roles, and the same holds here for noauth and JWT identities.
IMPLIED_ROLES: Mapping[str, tuple[str, ...]] = {"admin": ("member",), "member": ("reader",)}
_FORMAT = re.compile(r"^%\((\w+)\)s$")


class PolicyConfigError(RuntimeError):
    """The policy file cannot be used; the app refuses to start with it."""


@dataclass(frozen=True, slots=True)
class Constant:
    """`@`, `!` or the empty check."""

    value: bool


@dataclass(frozen=True, slots=True)
class RuleRef:
    """`rule:<name>`: another rule's outcome."""

    name: str


@dataclass(frozen=True, slots=True)
class Match:
    """`kind:match`: a role, a credential, or a quoted literal compared with the target."""

    kind: str
    match: str


@dataclass(frozen=True, slots=True)
class Not:
    """`not <check>`."""

    check: Check


@dataclass(frozen=True, slots=True)
class AllOf:
    """`<check> and <check> ...`."""

    checks: tuple[Check, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`<check> or <check> ...`."""

    checks: tuple[Check, ...]


Check = Union[Constant, RuleRef, Match, Not, AllOf, AnyOf]


@dataclass(frozen=True, slots=True)
class Policy:
    """Named, parsed rules (hashable, so settings holding it stay hashable)."""

    rules: tuple[tuple[str, Check], ...]

    def allows(self, name: str, creds: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
        """Whether the credentials pass rule `name` on the target; `creds["roles"]` are role
        names (implied roles are added here).

        Raises:
            KeyError: no rule has that name (a programming error, not a refusal).
        """
        rules = dict(self.rules)
        effective = {**creds, "roles": effective_roles(creds.get("roles", ()))}
        return _evaluate(rules[name], rules, effective, target)


def effective_roles(roles: Iterable[str]) -> frozenset[str]:
    """The roles plus every role they imply, lower-cased."""
    found: set[str] = set()
    pending = [r.lower() for r in roles]
    while pending:
        role = pending.pop()
        if role not in found:
            found.add(role)
            pending.extend(IMPLIED_ROLES.get(role, ()))
    return frozenset(found)


@cache
def defaults() -> Policy:
    """Glance's default rules, as this package ships them."""
    return load("")


@cache
def load(path: str) -> Policy:
    """The default rules, each overridden by the JSON file at `path` (if any): oslo.policy's
    policy.json format, a flat object of rule name to check string.

    Raises:
        PolicyConfigError: the file is unreadable, not that shape, or a rule does not parse,
            names an unknown rule, or refers to itself.
    """
    rules = _read(DEFAULTS_FILE)
    if path:
        rules.update(_read(Path(path)))
    parsed = {}
    for name, text in rules.items():
        try:
            parsed[name] = parse(text)
        except ValueError as exc:
            raise PolicyConfigError(f"Policy rule '{name}' in {path or DEFAULTS_FILE}: "
                                    f"{exc}") from exc
    _check_references(parsed)
    return Policy(tuple(parsed.items()))


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PolicyConfigError(f"Cannot read policy file {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise PolicyConfigError(f"Policy file {path} must be a JSON object of rule name to "
                                "check string.")
    return data


def _check_references(rules: Mapping[str, Check]) -> None:
    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise PolicyConfigError(f"Policy rules refer to each other in a loop: "
                                    f"{' -> '.join((*trail, name))}")
        for ref in _refs(rules[name]):
            if ref not in rules:
                raise PolicyConfigError(f"Policy rule '{name}' refers to unknown rule '{ref}'.")
            visit(ref, (*trail, name))
    for rule_name in rules:
        visit(rule_name, ())


def _refs(check: Check) -> Iterable[str]:
    if isinstance(check, RuleRef):
        yield check.name
    elif isinstance(check, Not):
        yield from _refs(check.check)
    elif isinstance(check, (AllOf, AnyOf)):
        for part in check.checks:
            yield from _refs(part)


# --- parsing ----------------------------------------------------------------------------------

def parse(text: str) -> Check:
    """A check string as a tree.

    Raises:
        ValueError: the string is not a valid check.
    """
    tokens = _tokens(text)
    if not tokens:
        return Constant(True)
    check, rest = _or(tokens)
    if rest:
        raise ValueError(f"unexpected '{rest[0]}'")
    return check


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for word in text.split():
        opening = len(word) - len(word.lstrip("("))
        word = word[opening:]
        stripped = word.rstrip(")")
        closing = len(word) - len(stripped)
        tokens.extend(["("] * opening + ([stripped] if stripped else []) + [")"] * closing)
    return tokens


def _or(tokens: list[str]) -> tuple[Check, list[str]]:
    checks = []
    check, tokens = _and(tokens)
    checks.append(check)
    while tokens and tokens[0] == "or":
        check, tokens = _and(tokens[1:])
        checks.append(check)
    return (checks[0] if len(checks) == 1 else AnyOf(tuple(checks))), tokens


def _and(tokens: list[str]) -> tuple[Check, list[str]]:
    checks = []
    check, tokens = _not(tokens)
    checks.append(check)
    while tokens and tokens[0] == "and":
        check, tokens = _not(tokens[1:])
        checks.append(check)
    return (checks[0] if len(checks) == 1 else AllOf(tuple(checks))), tokens


def _not(tokens: list[str]) -> tuple[Check, list[str]]:
    if not tokens:
        raise ValueError("a check is missing")
    if tokens[0] == "not":
        check, rest = _not(tokens[1:])
        return Not(check), rest
    if tokens[0] == "(":
        check, rest = _or(tokens[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parentheses")
        return check, rest[1:]
    return _atom(tokens[0]), tokens[1:]


def _atom(token: str) -> Check:
    if token in ("@", "!"):
        return Constant(token == "@")
    kind, sep, match = token.partition(":")
    if token in ("and", "or", ")") or not sep or not kind or not match:
        raise ValueError(f"'{token}' is not a check (expected kind:match, @ or !)")
    if kind == "rule":
        return RuleRef(match)
    return Match(kind, match)


# --- evaluation -------------------------------------------------------------------------------

def _evaluate(check: Check, rules: Mapping[str, Check], creds: Mapping[str, Any],
              target: Mapping[str, Any]) -> bool:
    if isinstance(check, Constant):
        return check.value
    if isinstance(check, RuleRef):
        return _evaluate(rules[check.name], rules, creds, target)
    if isinstance(check, Not):
        return not _evaluate(check.check, rules, creds, target)
    if isinstance(check, AllOf):
        return all(_evaluate(c, rules, creds, target) for c in check.checks)
    if isinstance(check, AnyOf):
        return any(_evaluate(c, rules, creds, target) for c in check.checks)
    return _matches(check, creds, target)


def _matches(check: Match, creds: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    wanted = _resolve(check.match, target)
    if wanted is None:  # the target lacks the field: the check cannot pass
        return False
    if check.kind == "role":
        return wanted.lower() in creds["roles"]
    if check.kind[0] in "'\"" and check.kind[-1] == check.kind[0] and len(check.kind) > 1:
        return check.kind[1:-1] == wanted
    value = creds.get(check.kind)
    return value is not None and str(value) == wanted


def _resolve(match: str, target: Mapping[str, Any]) -> str | None:
    found = _FORMAT.match(match)
    if not found:
        return match
    value = target.get(found.group(1))
    return None if value is None else str(value)
