"""Plan and apply by scope: everything, a registry, a credential set, or a repository.

There is no second decision path: a plan is the audit's plan (`observe_and_plan`) for the
registries in scope, narrowed to the credential set or repository asked about; a repository that
no cache rule serves gets the policy table's answer (the same assessment as a 404 pull failure or
`POST /api/repositories`). Applying uses the reactions' own appliers.

A plan's id is derived from the state it was computed from, so `apply` recomputes the plan for
the same scope and applies it only when the id is unchanged; otherwise `StalePlanError` carries
the new plan. Staleness is judged per registry observation: any change in the registry's rules,
credential sets, their secrets or access makes an older plan for it stale (the safe side).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.domain.cache_rules import find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.names import validate_rule_name
from shared.domain.plans import Action, Finding, Outcome, Plan, Severity, fingerprint
from shared.domain.repositories import TargetPath
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.observability import METRICS, log_fields
from shared.services.audit import apply_plan, observe_and_plan
from shared.services.context import Context
from shared.services.records import record_terminal
from shared.services.repositories import request_target
from shared.services.results import ReactionStatus

__all__ = [
    "Applied",
    "Scope",
    "ScopedPlan",
    "StalePlanError",
    "apply_scope",
    "parse_scope",
    "plan_scope",
]

log = logging.getLogger(__name__)
ScopeKind = Literal["all", "registry", "credential-set", "repository"]
_FIELDS = {"registry", "credentialSet", "repository", "scope"}


@dataclass(frozen=True, slots=True)
class Scope:
    """What a plan covers."""

    kind: ScopeKind
    registry: ResourceId | None = None
    credential_set: str | None = None
    repository: TargetPath | None = None

    @property
    def label(self) -> str:
        """A short human-readable name: `all`, `registry:r`, `credential-set:r/c`, ..."""
        if self.registry is None:
            return "all"
        name = self.registry.name
        if self.credential_set is not None:
            return f"credential-set:{name}/{self.credential_set}"
        if self.repository is not None:
            return f"repository:{name}/{self.repository}"
        return f"registry:{name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "registry": self.registry.name if self.registry else None,
            "credentialSet": self.credential_set,
            "repository": str(self.repository) if self.repository else None,
        }


@dataclass(frozen=True, slots=True)
class ScopedPlan:
    """A plan for a scope; `repository_request` when the policy table decides (no serving rule)."""

    scope: Scope
    plan: Plan
    repository_request: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "planId": self.plan.id,
            "scope": self.scope.to_dict(),
            "summary": _summary(self.plan),
            "actions": [a.to_dict() for a in self.plan.actions],
            "findings": [f.to_dict() for f in self.plan.findings],
        }


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a plan did."""

    plan: ScopedPlan
    status: ReactionStatus
    signal_id: str
    outcomes: tuple[Outcome, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "signalId": self.signal_id,
            "plan": self.plan.to_dict(),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


class StalePlanError(ConflictError):
    """State changed since the plan was made; `current` is the plan for the state now."""

    code = "StalePlan"

    def __init__(self, message: str, *, current: ScopedPlan) -> None:
        super().__init__(message)
        self.current = current


def _summary(plan: Plan) -> str:
    worst = [f for f in plan.findings if f.severity is not Severity.INFO]
    return (
        f"{len(plan.actions)} action(s), {len(plan.findings)} finding(s) ({len(worst)} above info)"
    )


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f'"{name}" must be a non-empty string')
    return value.strip()


def parse_scope(ctx: Context, data: Any, *, extra: frozenset[str] = frozenset()) -> Scope:
    """The scope of a plan request: `{}` is everything; `registry`, plus `credentialSet` or
    `repository` (a repository path in the registry) narrow it; `scope` may name the kind."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InvalidInputError("the request must be a JSON object")
    unknown = sorted(str(k) for k in data if k not in _FIELDS | extra)
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(unknown)}")
    registry_name = _text(data, "registry")
    credential_set = _text(data, "credentialSet")
    repository = _text(data, "repository")
    if credential_set is not None and repository is not None:
        raise InvalidInputError('give at most one of "credentialSet" and "repository"')
    if registry_name is None and (credential_set or repository):
        raise InvalidInputError('"registry" is required with "credentialSet" or "repository"')
    scope = Scope("all")
    if registry_name is not None:
        registry = ctx.managed_registry(registry_name)
        if credential_set is not None:
            validate_rule_name(credential_set, kind="credential set")
            scope = Scope("credential-set", registry, credential_set=credential_set)
        elif repository is not None:
            target = TargetPath.parse(repository.lower(), allow_wildcard=False)
            scope = Scope("repository", registry, repository=target)
        else:
            scope = Scope("registry", registry)
    asked = data.get("scope")
    if asked is not None and asked != scope.kind:
        raise InvalidInputError(f'"scope" is {asked!r} but the fields given make it {scope.kind!r}')
    return scope


def _concerns(credential_set: str, item: Action | Finding) -> bool:
    """True when an action or finding is about the credential set (grants name it in changes,
    expiry findings in evidence)."""
    key = credential_set.lower()
    if isinstance(item, Action):
        named = [item.resource, item.changes.credential_set]
    else:
        named = [item.resource, *(item.evidence.get("credentialSets") or [])]
    return any(isinstance(n, str) and n.lower() == key for n in named)


def _narrow(base: Plan, label: str, credential_set: ResourceId) -> Plan:
    key = str(credential_set)
    return Plan(
        label,
        tuple(a for a in base.actions if _concerns(key, a)),
        tuple(f for f in base.findings if _concerns(key, f)),
        base.state_fingerprint,
    )


def plan_scope(ctx: Context, scope: Scope) -> ScopedPlan:
    """Observe the scope's state and plan (nothing is changed)."""
    if scope.registry is None:
        _, plan, _ = observe_and_plan(ctx, list(ctx.settings.managed_registries))
        return ScopedPlan(scope, plan)
    _, base, observed = observe_and_plan(ctx, [scope.registry])
    if scope.kind == "registry":
        return ScopedPlan(scope, base)
    (registry,) = observed
    if scope.credential_set is not None:
        wanted = scope.registry.child("credentialSets", scope.credential_set)
        declared = any(a.resource.lower() == wanted.key for a in base.actions)  # to be created
        if not declared and not any(c.id == wanted for c in registry.sets):
            raise NotFoundError(
                f"credential set {scope.credential_set!r} does not exist in {scope.registry.name}"
            )
        return ScopedPlan(scope, _narrow(base, scope.label, wanted))
    assert scope.repository is not None  # parse_scope makes every other kind one of these
    rule = find_serving_rule(scope.repository, registry.rules)
    if rule is None:
        # nothing serves it: the policy table decides, exactly as for a 404 pull failure
        reaction = request_target(
            ctx, scope.registry, scope.repository, dry_run=True, signal_id="plan"
        )
        plan = reaction.plan or Plan(scope.label)
        return ScopedPlan(scope, plan, repository_request=True)
    if rule.credential_set_id is None:
        finding = Finding("rule-without-credential-set", Severity.INFO, str(rule.id),
                          f"{scope.repository} is served by rule {rule.name} without a credential set; "
                          "there is nothing cachekeeper manages for it")  # fmt: skip
        state = fingerprint([str(rule.id).lower(), str(rule.source), str(rule.target)])
        return ScopedPlan(scope, Plan(scope.label, (), (finding,), state))
    return ScopedPlan(scope, _narrow(base, scope.label, rule.credential_set_id))


def apply_scope(ctx: Context, scope: Scope, plan_id: str) -> Applied:
    """Recompute the scope's plan; apply it when its id is `plan_id`, else raise StalePlanError."""
    current = plan_scope(ctx, scope)
    if current.plan.id != plan_id:
        raise StalePlanError(
            f"plan {plan_id} is stale: state changed since it was made; the current plan is "
            f"{current.plan.id}",
            current=current,
        )
    signal_id = f"apply-{plan_id}-{uuid.uuid4().hex[:8]}"
    if current.repository_request and current.plan.actions:
        assert scope.registry is not None
        assert scope.repository is not None
        reaction = request_target(ctx, scope.registry, scope.repository, signal_id=signal_id)
        applied = Applied(current, reaction.status, signal_id, reaction.outcomes)
    else:
        outcomes = apply_plan(ctx, current.plan, signal_id=signal_id)
        status = record_terminal(
            ctx, signal_id, scope.label, outcomes, nothing="the plan had nothing to change"
        )
        applied = Applied(current, status, signal_id, outcomes)
    METRICS.count_outcomes(applied.outcomes)
    log_fields(log, "plan applied", signal_id=signal_id, plan_id=plan_id, scope=scope.label,
               actions=len(applied.outcomes), outcome=applied.status.value)  # fmt: skip
    return applied
