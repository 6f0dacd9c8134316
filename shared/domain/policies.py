"""The policy table: which upstream repositories may be cached, where, and with which credentials.

A row matches an upstream repository exactly (`ghcr.io/acme/tools`) or by prefix
(`docker.io/library/*`). When several rows match, the most specific pattern wins (an exact
pattern beats any wildcard; a longer prefix beats a shorter one), then a row for this registry
beats a row for every registry (`*`), then deny beats allow, then the lower priority number wins,
then the row id (so the decision is always deterministic). No matching row means "denied".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.cache_rules import RuleSpec, derive_rule_name
from shared.domain.names import validate_rule_name
from shared.domain.policy_fields import (
    boolean_field,
    enum_field,
    optional_text,
    priority_field,
    required_text,
    timestamp_field,
    upstream_field,
)
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.upstreams import credential_problem
from shared.errors import InvalidInputError, InvalidPolicyError

__all__ = ["Decision", "Policy", "PolicyAction", "PolicyIndex", "RuleKind", "decide"]

_POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_REGISTRY = re.compile(r"(\*|[a-zA-Z0-9]{5,50})", re.ASCII)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}", re.ASCII)
_PLACEHOLDERS = {"path", "repository", "name"}
_MAX_DESCRIPTION = 500


class PolicyAction(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class RuleKind(StrEnum):
    STATIC = "static"  # one rule per requested repository
    WILDCARD = "wildcard"  # one rule for everything under the pattern


@dataclass(frozen=True, slots=True)
class Policy:
    """One row of the policy table."""

    id: str
    upstream: Upstream
    action: PolicyAction
    registry: str = "*"
    target_template: str | None = None
    rule_kind: RuleKind = RuleKind.STATIC
    credential_set: str | None = None
    priority: int = 100
    enabled: bool = True
    description: str = ""
    changed_by: str | None = None
    changed_at: datetime | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Build and validate a row from its JSON form; InvalidPolicyError names the bad field."""
        if not isinstance(data, Mapping):
            raise InvalidPolicyError("a policy must be an object")
        known = {
            "id", "upstream", "action", "registry", "targetTemplate", "ruleKind", "credentialSet",
            "priority", "enabled", "description", "changedBy", "changedAt",
        }  # fmt: skip
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InvalidPolicyError(f"unknown policy field(s): {', '.join(unknown)}")
        policy_id = required_text(data, "id")
        try:
            policy = cls(
                id=policy_id,
                upstream=upstream_field(data),
                action=enum_field(PolicyAction, data.get("action"), "action", policy_id),
                registry=optional_text(data, "registry") or "*",
                target_template=optional_text(data, "targetTemplate"),
                rule_kind=enum_field(
                    RuleKind, data.get("ruleKind", "static"), "ruleKind", policy_id
                ),
                credential_set=optional_text(data, "credentialSet"),
                priority=priority_field(data.get("priority", 100), policy_id),
                enabled=boolean_field(data.get("enabled", True), policy_id),
                description=optional_text(data, "description") or "",
                changed_by=optional_text(data, "changedBy"),
                changed_at=timestamp_field(data.get("changedAt"), policy_id),
            )
        except InvalidPolicyError:
            raise
        except InvalidInputError as exc:
            raise InvalidPolicyError(f"policy {policy_id!r}: {exc}") from exc
        policy.validate()
        return policy

    def validate(self) -> None:
        """Raise InvalidPolicyError when the row is inconsistent."""
        where = f"policy {self.id!r}"
        if not _POLICY_ID.fullmatch(self.id):
            raise InvalidPolicyError(f"{where}: id must be 1-64 letters, digits, '.', '_' or '-'")
        if not _REGISTRY.fullmatch(self.registry):
            raise InvalidPolicyError(f"{where}: registry must be '*' or a registry name")
        if len(self.description) > _MAX_DESCRIPTION:
            raise InvalidPolicyError(
                f"{where}: description is longer than {_MAX_DESCRIPTION} characters"
            )
        if self.action is PolicyAction.ALLOW:
            self._validate_allow(where)

    def _validate_allow(self, where: str) -> None:
        if not self.target_template:
            raise InvalidPolicyError(
                f"{where}: an allow row needs a targetTemplate, e.g. dockerhub/{{path}}"
            )
        used = set(_PLACEHOLDER.findall(self.target_template))
        if used - _PLACEHOLDERS:
            bad = ", ".join(sorted("{" + u + "}" for u in used - _PLACEHOLDERS))
            raise InvalidPolicyError(
                f"{where}: unknown placeholder {bad}; use {{path}}, {{repository}}, {{name}}"
            )
        if self.rule_kind is RuleKind.WILDCARD:
            if not self.upstream.is_wildcard:
                raise InvalidPolicyError(f"{where}: a wildcard rule needs a pattern ending in '/*'")
            if not self.target_template.endswith("{path}") or used != {"path"}:
                raise InvalidPolicyError(
                    f"{where}: a wildcard rule's targetTemplate must end with {{path}} and use nothing else"
                )
        try:
            _render(self, _sample(self.upstream))
        except InvalidInputError as exc:
            raise InvalidPolicyError(
                f"{where}: targetTemplate does not give a valid repository ({exc})"
            ) from exc
        if self.credential_set is not None:
            try:
                validate_rule_name(self.credential_set, kind="credential set")
            except InvalidInputError as exc:
                raise InvalidPolicyError(f"{where}: {exc}") from exc
        # the upstream support table (upstreams.py): Docker Hub needs credentials, MCR takes none
        problem = credential_problem(
            self.upstream.host, has_credential_set=self.credential_set is not None
        )
        if problem is not None:
            fix = "remove credentialSet" if self.credential_set else "set credentialSet"
            raise InvalidPolicyError(f"{where}: {problem}; {fix}")

    def matches(self, upstream: Upstream, registry: str) -> bool:
        """True when this enabled row applies to `upstream` in `registry`."""
        if not self.enabled or (self.registry != "*" and self.registry.lower() != registry.lower()):
            return False
        if upstream.host != self.upstream.host:
            return False
        if not self.upstream.is_wildcard:
            return upstream.path == self.upstream.path
        prefix = self.upstream.path[:-1]
        return len(upstream.path) > len(prefix) and upstream.path[: len(prefix)] == prefix

    def rank(self) -> tuple[int, int, int, int, int, str]:
        """Sort key: smaller is stronger (see the module docstring)."""
        exact = 0 if not self.upstream.is_wildcard else 1
        depth = -len(self.upstream.path)
        specific = 0 if self.registry != "*" else 1
        deny = 0 if self.action is PolicyAction.DENY else 1
        return (exact, depth, specific, deny, self.priority, self.id)

    def to_dict(self) -> dict[str, Any]:
        """The row's JSON form (what from_dict reads)."""
        return {
            "id": self.id,
            "upstream": str(self.upstream),
            "action": self.action.value,
            "registry": self.registry,
            "targetTemplate": self.target_template,
            "ruleKind": self.rule_kind.value,
            "credentialSet": self.credential_set,
            "priority": self.priority,
            "enabled": self.enabled,
            "description": self.description,
            "changedBy": self.changed_by,
            "changedAt": self.changed_at.isoformat() if self.changed_at else None,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer for one upstream repository in one registry."""

    allowed: bool
    reason: str
    policy: Policy | None = None
    rule: RuleSpec | None = None


class PolicyIndex:
    """A policy table indexed by host and pattern, so that finding the rows that match an
    upstream costs the upstream's depth instead of the table's size: the audit judges every rule
    of every registry (20,000 rules against the table in bench/scale.py's fleet).

    `winner` is the row `decide` would pick: the same rows match (`Policy.matches`) and the
    smallest `Policy.rank` wins, ties going to the earlier row of the table."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self._exact: dict[tuple[str, tuple[str, ...]], list[tuple[Any, Policy]]] = {}
        self._prefix: dict[tuple[str, tuple[str, ...]], list[tuple[Any, Policy]]] = {}
        for order, policy in enumerate(policies):
            if not policy.enabled:
                continue
            pattern = policy.upstream
            ranked = ((*policy.rank(), order), policy)
            if pattern.is_wildcard:
                self._prefix.setdefault((pattern.host, pattern.path[:-1]), []).append(ranked)
            else:
                self._exact.setdefault((pattern.host, pattern.path), []).append(ranked)

    def matching(self, upstream: Upstream, registry: str) -> list[Policy]:
        """The rows that match `upstream` in `registry`, strongest first."""
        return [policy for _, policy in sorted(self._ranked(upstream, registry), key=_first)]

    def winner(self, upstream: Upstream, registry: str) -> Policy | None:
        """The row that decides `upstream` in `registry` (None: no row matches)."""
        ranked = self._ranked(upstream, registry)
        return min(ranked, key=_first)[1] if ranked else None

    def _ranked(self, upstream: Upstream, registry: str) -> list[tuple[Any, Policy]]:
        host, path = upstream.host, upstream.path
        found = list(self._exact.get((host, path), ()))
        for length in range(len(path)):  # wildcard rows whose prefix is strictly shorter
            found.extend(self._prefix.get((host, path[:length]), ()))
        wanted = registry.lower()
        return [r for r in found if r[1].registry == "*" or r[1].registry.lower() == wanted]


def _first(ranked: tuple[Any, Policy]) -> Any:
    return ranked[0]


def decide(
    upstream: Upstream,
    policies: Iterable[Policy] | PolicyIndex,
    *,
    registry: str,
    taken_names: Iterable[str] = (),
) -> Decision:
    """Which row decides `upstream` in `registry`, and the cache rule it prescribes when allowed."""
    index = policies if isinstance(policies, PolicyIndex) else PolicyIndex(policies)
    winner = index.winner(upstream, registry)
    if winner is None:
        return Decision(
            False, f"no policy row allows {upstream}; add an allow row for it or a prefix of it"
        )
    if winner.action is PolicyAction.DENY:
        return Decision(False, f"policy {winner.id!r} denies {winner.upstream}", winner)
    target = _render(winner, upstream)
    source = (
        Upstream(upstream.host, (*winner.upstream.path[:-1], "*"))
        if winner.rule_kind is RuleKind.WILDCARD
        else upstream
    )
    rule = RuleSpec(
        derive_rule_name(target, taken=taken_names), source, target, winner.credential_set
    )
    return Decision(True, f"policy {winner.id!r} allows {winner.upstream}", winner, rule)


def _render(policy: Policy, upstream: Upstream) -> TargetPath:
    template = policy.target_template or ""
    if policy.rule_kind is RuleKind.WILDCARD:
        return TargetPath.parse(template.replace("{path}", "*"))
    if policy.upstream.is_wildcard:
        path = upstream.path[len(policy.upstream.path) - 1 :]
    else:
        path = upstream.path[-1:]
    values = {"path": "/".join(path), "repository": upstream.repository, "name": upstream.path[-1]}
    return TargetPath.parse(
        _PLACEHOLDER.sub(lambda m: values[m.group(1)], template), allow_wildcard=False
    )


def _sample(pattern: Upstream) -> Upstream:
    if pattern.is_wildcard:
        return Upstream(pattern.host, (*pattern.path[:-1], "sample"))
    return pattern
