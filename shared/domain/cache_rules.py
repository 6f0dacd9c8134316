"""ACR's own rules for cache rules, checked before we ask ARM: names, overlaps, limits, credentials.

ACR refuses a wildcard rule that overlaps another wildcard rule (same target, or one target path
containing the other), two static rules with the same target, more than 1,000 rules, a static
rule whose target repository exists, a wildcard rule whose target prefix already holds any
repository (`TargetRepositoryPrefixMatchesExistingRegistries`), and rules whose credentials do not
fit the upstream (`upstreams.py`: Docker Hub needs a credential set, MCR takes none). A static rule
may sit under a wildcard. Checking first turns an opaque 4xx into a reason a person can act on,
and lets a dry run say what would fail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.domain.models import CacheRule
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.upstreams import credential_problem

__all__ = [
    "MAX_CACHE_RULES",
    "RuleSpec",
    "blocking_repositories",
    "check_new_rule",
    "derive_rule_name",
    "find_serving_rule",
]

MAX_CACHE_RULES = 1000
_NAME_MIN, _NAME_MAX = 5, 50
_NOT_NAME = re.compile(r"[^a-zA-Z0-9]+", re.ASCII)
_RULE_NAME = re.compile(r"[a-zA-Z0-9-]{5,50}", re.ASCII)


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
    """A valid (5-50 chars, `[a-zA-Z0-9-]`) name derived from the target and never one of
    `taken` (compared without case, as ARM compares names): the same target always gives the
    same name unless that name is taken, and then a short hash makes it unique (hashed again
    with a counter in the unlikely case that the hashed name is taken too)."""
    text = str(target)
    base = _NOT_NAME.sub("-", text.replace("*", "all")).strip("-").lower() or "cache"
    taken_lower = {name.lower() for name in taken}
    if _NAME_MIN <= len(base) <= _NAME_MAX and base not in taken_lower:
        return base
    attempt = 0
    while True:
        suffix = _short_hash(text if attempt == 0 else f"{text}#{attempt}")
        name = f"{base[: _NAME_MAX - len(suffix) - 1].rstrip('-')}-{suffix}"
        if name not in taken_lower:
            return name
        attempt += 1


def _overlaps(a: TargetPath, b: TargetPath) -> bool:
    """Wildcard overlap as ACR defines it: same prefix, or one prefix contains the other."""
    shorter, longer = sorted((a.prefix, b.prefix), key=len)
    return longer[: len(shorter)] == shorter


def blocking_repositories(
    target: TargetPath, repositories: Iterable[TargetPath]
) -> list[TargetPath]:
    """The existing repositories that stop ACR from creating a rule for `target`: for a
    wildcard, every repository under its prefix (any repository at all for `*`); for a static
    target, the repository itself. Sorted."""
    if target.is_wildcard:
        found = {r for r in repositories if target.covers(r)}
    else:
        found = {r for r in repositories if r == target}
    return sorted(found, key=str)


def _blocked_reason(spec: RuleSpec, blockers: Sequence[TargetPath]) -> str:
    if not spec.is_wildcard:
        return (
            f"repository {spec.target} already exists in the registry (ACR refuses a cache rule whose target "
            "repository exists); change the row's targetTemplate or move the repository"
        )
    shown = ", ".join(str(b) for b in blockers[:10])
    more = f" and {len(blockers) - 10} more" if len(blockers) > 10 else ""
    return (
        f"{len(blockers)} repositor{'y' if len(blockers) == 1 else 'ies'} already exist under "
        f"{spec.target} ({shown}{more}); ACR refuses a wildcard rule whose target prefix holds "
        "any repository: delete them (cached images are pulled again) or choose another prefix"
    )


def check_new_rule(
    spec: RuleSpec,
    existing: Sequence[CacheRule],
    *,
    limit: int = MAX_CACHE_RULES,
    known_credential_sets: Iterable[str] | None = None,
    repositories: Iterable[TargetPath] | None = None,
) -> list[str]:
    """Reasons ACR would refuse `spec` next to `existing` rules; empty when it would accept it.
    `repositories`: the registry's catalog, when known (the target must not be taken)."""
    reasons: list[str] = []
    if not _RULE_NAME.fullmatch(spec.name):
        reasons.append(f"rule name {spec.name!r} must be 5-50 letters, digits and hyphens")
    if spec.source.is_wildcard != spec.target.is_wildcard:
        reasons.append("source and target must both be wildcards (ending in '*') or both static")
    problem = credential_problem(spec.source.host, has_credential_set=bool(spec.credential_set))
    if problem is not None:
        reasons.append(problem)
    if repositories is not None:
        blockers = blocking_repositories(spec.target, repositories)
        if blockers:
            reasons.append(_blocked_reason(spec, blockers))
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
