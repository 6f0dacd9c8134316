"""ACR's own rules for cache rules, checked before we ask ARM: names, overlaps, limits, credentials.

ACR refuses a wildcard rule that overlaps another wildcard rule (same target, or one target path
containing the other), two static rules with the same target, more than 1,000 rules, and Docker Hub
sources without a credential set. A static rule may sit under a wildcard. Checking first turns an
opaque 400 into a reason a person can act on, and lets a dry run say what would fail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain.models import CacheRule
from shared.domain.repositories import TargetPath, Upstream

__all__ = [
    "MAX_CACHE_RULES",
    "RuleSpec",
    "check_new_rule",
    "derive_rule_name",
    "find_serving_rule",
]

MAX_CACHE_RULES = 1000
_NAME_MIN, _NAME_MAX = 5, 50
_NOT_NAME = re.compile(r"[^a-zA-Z0-9]+")
_RULE_NAME = re.compile(r"^[a-zA-Z0-9-]{5,50}$")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A cache rule to create: name, upstream source, target path, credential set name."""

    name: str
    source: Upstream
    target: TargetPath
    credential_set: str | None = None

    @property
    def is_wildcard(self) -> bool:
        return self.target.is_wildcard


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def derive_rule_name(target: TargetPath, *, taken: Iterable[str] = ()) -> str:
    """A valid (5-50 chars, `[a-zA-Z0-9-]`) name derived from the target; the same target always
    gives the same name unless that name is taken, and then a short hash makes it unique."""
    text = str(target)
    base = _NOT_NAME.sub("-", text.replace("*", "all")).strip("-").lower() or "cache"
    taken_lower = {name.lower() for name in taken}
    if _NAME_MIN <= len(base) <= _NAME_MAX and base not in taken_lower:
        return base
    suffix = _short_hash(text)
    head = base[: _NAME_MAX - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


def _overlaps(a: TargetPath, b: TargetPath) -> bool:
    """Wildcard overlap as ACR defines it: same prefix, or one prefix contains the other."""
    shorter, longer = sorted((a.prefix, b.prefix), key=len)
    return longer[: len(shorter)] == shorter


def check_new_rule(
    spec: RuleSpec,
    existing: Sequence[CacheRule],
    *,
    limit: int = MAX_CACHE_RULES,
    known_credential_sets: Iterable[str] | None = None,
) -> list[str]:
    """Reasons ACR would refuse `spec` next to `existing` rules; empty when it would accept it."""
    reasons: list[str] = []
    if not _RULE_NAME.match(spec.name):
        reasons.append(f"rule name {spec.name!r} must be 5-50 letters, digits and hyphens")
    if spec.source.is_wildcard != spec.target.is_wildcard:
        reasons.append("source and target must both be wildcards (ending in '*') or both static")
    if spec.source.is_docker_hub and not spec.credential_set:
        reasons.append(
            "Docker Hub only allows authenticated pulls: the rule needs a credential set"
        )
    if spec.credential_set and known_credential_sets is not None:
        names = {n.lower() for n in known_credential_sets}
        if spec.credential_set.lower() not in names:
            reasons.append(f"credential set {spec.credential_set!r} does not exist in the registry")
    for rule in existing:
        if rule.name.lower() == spec.name.lower():
            reasons.append(
                f"a rule named {rule.name!r} already exists ({rule.source} -> {rule.target})"
            )
        elif spec.is_wildcard and rule.is_wildcard and _overlaps(spec.target, rule.target):
            reasons.append(
                f"wildcard target {spec.target} overlaps wildcard rule {rule.name!r} "
                f"({rule.target}); delete or narrow one of them"
            )
        elif not spec.is_wildcard and not rule.is_wildcard and rule.target == spec.target:
            reasons.append(f"static rule {rule.name!r} already targets {spec.target}")
    if len(existing) >= limit:
        reasons.append(
            f"the registry already has {len(existing)} cache rules; ACR allows at most {limit}"
        )
    return reasons


def find_serving_rule(repository: TargetPath, rules: Iterable[CacheRule]) -> CacheRule | None:
    """The rule that serves pulls of `repository`: a static rule on it, else the deepest wildcard."""
    best: CacheRule | None = None
    for rule in rules:
        if not rule.target.covers(repository):
            continue
        if not rule.is_wildcard:
            return rule
        if best is None or len(rule.target.prefix) > len(best.target.prefix):
            best = rule
    return best
