"""Memory of cache rules ARM refused, so a planner does not ask again for the same state.

ARM can refuse a rule our pre-checks allowed: a repository the catalog does not list
(`listEnabled: false`), a catalog we could not read, a rule of ACR's we do not know. Asking again
every audit run changes nothing, so the refusal is remembered with a fingerprint of what the
planner saw (the rule, the repositories under its target, the registry's rules); the create is
planned again only when that state differs, e.g. once a blocking repository is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.cache_rules import RuleSpec, blocking_repositories
from shared.domain.models import CacheRule
from shared.domain.plans import fingerprint
from shared.domain.repositories import TargetPath

__all__ = ["CreateGuard", "RuleRefusal", "refusal_state", "refused_for"]


@dataclass(frozen=True, slots=True)
class RuleRefusal:
    """ARM refused creating `rule` (a cache rule id) while the planner saw `state`."""

    rule: str
    state: str
    reason: str
    at: datetime

    @property
    def registry(self) -> str:
        """The id of the registry the rule belongs to."""
        return self.rule.rsplit("/cacheRules/", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "state": self.state, "reason": self.reason,
                "at": self.at.isoformat()}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleRefusal:
        return cls(str(data["rule"]), str(data["state"]), str(data["reason"]),
                   datetime.fromisoformat(str(data["at"])))  # fmt: skip


def refusal_state(
    spec: RuleSpec, rules: Sequence[CacheRule], repositories: Iterable[TargetPath] | None
) -> str:
    """Fingerprint of what a create of `spec` depends on: the rule itself, the repositories under
    (or at) its target (None: the catalog could not be read), and the registry's rule targets."""
    blockers = (
        None
        if repositories is None
        else [str(r) for r in blocking_repositories(spec.target, repositories)]
    )
    return fingerprint({
        "rule": [spec.name.lower(), str(spec.source), str(spec.target), spec.credential_set],
        "repositories": blockers,
        "rules": sorted(f"{r.name.lower()}={r.target}" for r in rules),
    })  # fmt: skip


def refused_for(rule: str, state: str, refusals: Iterable[RuleRefusal]) -> RuleRefusal | None:
    """The remembered refusal of `rule` for this very `state`, if any (a newer state: None)."""
    for refusal in refusals:
        if refusal.rule.lower() == rule.lower() and refusal.state == state:
            return refusal
    return None


@dataclass(frozen=True, slots=True)
class CreateGuard:
    """What a planner checks before it plans a cache rule create: the registry's catalog (None
    when it could not be read: ARM decides) and the refusals ARM gave before."""

    repositories: tuple[TargetPath, ...] | None = None
    refusals: tuple[RuleRefusal, ...] = ()

    def blockers(self, spec: RuleSpec) -> list[TargetPath]:
        """The existing repositories that make ACR refuse `spec` (none when unknown)."""
        return (
            []
            if self.repositories is None
            else blocking_repositories(spec.target, self.repositories)
        )

    def refusal(self, rule: str, spec: RuleSpec, rules: Sequence[CacheRule]) -> RuleRefusal | None:
        """ARM's earlier refusal of `rule` (its id), if the state it was refused for is unchanged."""
        if not self.refusals:
            return None
        return refused_for(rule, refusal_state(spec, rules, self.repositories), self.refusals)
