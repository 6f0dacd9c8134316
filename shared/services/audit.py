"""The audit: every managed registry, judged by the same planners the reactions use.

Findings: policy drift and unmanaged rules, missing wildcard rules, unhealthy credential sets,
secrets expiring within the horizon, pins behind the newest valid version (rotation planner),
identities that cannot read their secrets (diagnosis planner), dangling and unused credential
sets, the rule-count limit. With `reconcile` (AUTO_RECONCILE) the safe fixes are applied through
the same code as the reactions: rotations, access repairs in `fix` mode, missing wildcard rules.

Three phases, one after the other: **read** everything once (`audit_observation`, a bounded
fan-out), **judge** it purely (`audit_judgement`, the domain's judgements), then **diagnose**
each credential set's access from what was read (the diagnosis planner; only role definitions
not cached yet are read there).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, ActionKind, Finding, Outcome, Plan, Severity
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidInputError, PermanentError
from shared.services.audit_judgement import audit_plan, judge
from shared.services.audit_observation import Observation, ObservedRegistry, observe
from shared.services.context import Context, fan_out
from shared.services.credential_sets import apply_rotation
from shared.services.diagnosis import apply_access_repair, diagnose_credential_set
from shared.services.outcomes import record_action

__all__ = ["AuditReport", "apply_plan", "observe_and_plan", "run_audit"]

MAX_REPORTED_FINDINGS = 5000


@dataclass(frozen=True, slots=True)
class AuditReport:
    id: str
    started_at: datetime
    finished_at: datetime
    registries: tuple[str, ...]
    findings: tuple[Finding, ...]
    plan: Plan
    outcomes: tuple[Outcome, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        """No finding worse than info."""
        return not any(f.severity is not Severity.INFO for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "startedAt": self.started_at.isoformat(),
            "finishedAt": self.finished_at.isoformat(),
            "registries": list(self.registries),
            "counts": dict(self.counts),
            "findings": [f.to_dict() for f in self.findings[:MAX_REPORTED_FINDINGS]],
            "findingsTruncated": len(self.findings) > MAX_REPORTED_FINDINGS,
            "plan": self.plan.to_dict() | {"id": self.plan.id},
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def observe_and_plan(
    ctx: Context, registries: Sequence[ResourceId], *, progress: Callable[[str], None] | None = None
) -> tuple[list[Finding], Plan, list[ObservedRegistry]]:
    """Observe the registries and judge them; returns findings, the plan of safe fixes and what
    was read of each registry. `progress` hears each registry's name once it is judged."""
    policies = [p.policy for p in ctx.policies.list_policies()]
    observation = observe(ctx, registries)
    horizon = timedelta(days=ctx.settings.expiry_horizon_days)
    judgement = judge(
        observation, policies, now=ctx.clock.now(), horizon=horizon, progress=progress
    )
    diagnoses = _diagnose(ctx, observation, fix=ctx.settings.remediation_mode == "fix")
    findings, plan = audit_plan(registries, observation, judgement, diagnoses)
    return findings, plan, observation.registries


def _diagnose(ctx: Context, observation: Observation, *, fix: bool) -> list[Plan]:
    """Each credential set's access diagnosis (and repairs, with `fix`), in the sets' order, from
    the versions, vault models and role-assignment lists already read."""
    return fan_out(
        lambda credential_set: diagnose_credential_set(
            ctx,
            credential_set,
            fix=fix,
            versions=observation.versions,
            vaults=observation.vaults,
            lists=observation.lists,
        ),
        observation.credential_sets,
    )


def run_audit(
    ctx: Context,
    *,
    registries: Sequence[ResourceId] | None = None,
    reconcile: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Audit the registries (all managed ones by default); reconcile per AUTO_RECONCILE unless told."""
    started = ctx.clock.now()
    audit_id = f"audit-{started.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    targets = list(registries or ctx.settings.managed_registries)
    findings, plan, _ = observe_and_plan(ctx, targets, progress=progress)
    outcomes: tuple[Outcome, ...] = ()
    if ctx.settings.auto_reconcile if reconcile is None else reconcile:
        outcomes = apply_plan(ctx, plan, signal_id=audit_id)
    counts = {
        severity.value: sum(1 for f in findings if f.severity is severity) for severity in Severity
    }
    counts["actions"] = len(plan.actions)
    counts["applied"] = len(outcomes)
    report = AuditReport(
        audit_id,
        started,
        ctx.clock.now(),
        tuple(r.name for r in targets),
        tuple(findings),
        plan,
        outcomes,
        counts,
    )
    if ctx.reports is not None:
        ctx.reports.save_report(report.to_dict())
    return report


def _create_rule(ctx: Context, action: Action, signal_id: str) -> Outcome:
    rule_id = ResourceId.parse(action.resource)
    registry = rule_id.parent
    if registry is None:
        raise InvalidInputError(f"{rule_id} is not a cache rule id")
    credential = action.changes.get("credentialSet")
    spec = RuleSpec(
        rule_id.name,
        Upstream.parse(str(action.changes["sourceRepository"]), allow_wildcard=True),
        TargetPath.parse(str(action.changes["targetRepository"])),
        str(credential) if credential else None,
    )
    try:
        created = ctx.registry.create_cache_rule(registry, spec)
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    return record_action(ctx, action, signal_id, resource=str(created.id), after=dict(action.changes),
                         health=created.provisioning_state)  # fmt: skip


def apply_plan(ctx: Context, plan: Plan, *, signal_id: str) -> tuple[Outcome, ...]:
    """Carry out a plan with the reactions' own appliers: grants first, then one update or refresh
    per credential set (an update also refreshes), then missing rules."""
    grants = tuple(a for a in plan.actions if a.kind is ActionKind.GRANT_SECRET_READ)
    outcomes = list(apply_access_repair(ctx, Plan(plan.scope, grants), signal_id=signal_id))
    per_set: dict[str, Action] = {}
    for action in plan.actions:
        if action.kind is ActionKind.UPDATE_CREDENTIAL_SET or (
            action.kind is ActionKind.REFRESH_CREDENTIAL_SET and action.resource not in per_set
        ):
            per_set[action.resource] = action
    outcomes += apply_rotation(ctx, Plan(plan.scope, tuple(per_set.values())), signal_id=signal_id)
    rules = [a for a in plan.actions if a.kind is ActionKind.CREATE_CACHE_RULE]
    outcomes += fan_out(lambda a: _create_rule(ctx, a, signal_id), rules)
    return tuple(outcomes)
