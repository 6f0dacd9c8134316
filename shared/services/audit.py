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

from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, Finding, Outcome, Plan, Severity
from shared.domain.stale_grants import assignment_key, stale_grant_findings
from shared.services.appliers import apply_actions
from shared.services.audit_judgement import audit_plan, judge
from shared.services.audit_observation import Observation, ObservedRegistry, observe
from shared.services.context import Context, fan_out
from shared.services.diagnosis import diagnose_credential_set

__all__ = ["AuditReport", "apply_plan", "observe_and_plan", "run_audit"]

MAX_REPORTED_FINDINGS = 5000
_GRANTS_LOOKBACK = 1000  # the journal's outcomes searched for grants cachekeeper made


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
    fix = ctx.settings.remediation_mode == "fix"
    judgement = judge(
        observation, policies, now=ctx.clock.now(), horizon=horizon,
        pin_disabled_latest=ctx.settings.pins_disabled_latest, progress=progress,
        declared=[d.declaration for d in ctx.policies.list_declared_sets()],
        vaults={v.name.lower(): v for v in ctx.settings.vault_allowlist}, fix=fix,
    )  # fmt: skip
    diagnoses = _diagnose(ctx, observation, fix=fix)
    findings, plan = audit_plan(registries, observation, judgement, diagnoses)
    findings += _stale_grants(ctx, observation)
    return findings, plan, observation.registries


def _stale_grants(ctx: Context, observation: Observation) -> list[Finding]:
    """Grants cachekeeper made (the journal's newest outcomes) for a credential set of these
    registries whose identity no credential set has any more."""
    observed = [r.id.key + "/" for r in observation.registries]
    granted: dict[str, str] = {}
    for outcome in ctx.journal.outcomes(limit=_GRANTS_LOOKBACK):
        assignment, owner = outcome.after.get("roleAssignment"), outcome.after.get("credentialSet")
        if (
            outcome.action is ActionKind.GRANT_SECRET_READ
            and isinstance(assignment, str)
            and isinstance(owner, str)
            and any(owner.lower().startswith(prefix) for prefix in observed)
        ):
            granted.setdefault(assignment_key(assignment), owner)
    if not granted:
        return []
    live = [c.principal_id for c in observation.credential_sets if c.principal_id]
    assignments = [a for vault in observation.vaults for a in observation.lists.everyone(vault)]
    return stale_grant_findings(assignments, granted=granted, live_principals=live)


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
            announced=observation.announced,
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


def apply_plan(ctx: Context, plan: Plan, *, signal_id: str) -> tuple[Outcome, ...]:
    """Carry out a plan's actions with the appliers every reaction uses."""
    return apply_actions(ctx, plan.actions, signal_id=signal_id)
