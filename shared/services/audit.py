"""The audit: every managed registry, judged by the same planners the reactions use.

Findings: policy drift and unmanaged rules, missing wildcard rules, unhealthy credential sets,
secrets expiring within the horizon, pins behind the newest valid version (rotation planner),
identities that cannot read their secrets (diagnosis planner), dangling and unused credential
sets, the rule-count limit. With `reconcile` (AUTO_RECONCILE) the safe fixes are applied through
the same code as the reactions: rotations, access repairs in `fix` mode, missing wildcard rules.

The audit may wait out ARM's throttling until `AUDIT_WAIT_BUDGET` after it started
(shared/domain/time_budgets.py); a registry it could not read by then is named in a
`registry-not-audited` finding and the report is partial with the reason, never failed. When a
later phase runs out of that time, the whole report is partial.

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
from shared.domain.time_budgets import AUDIT_WAIT_BUDGET
from shared.errors import ThrottleBudgetError
from shared.services.appliers import apply_actions
from shared.services.audit_judgement import audit_plan, judge
from shared.services.audit_observation import Observation, ObservedRegistry, observe
from shared.services.context import Context, fan_out
from shared.services.diagnosis import diagnose_credential_set
from shared.wait_deadline import waits_until

__all__ = ["AuditReport", "apply_plan", "observe_and_plan", "run_audit"]

MAX_REPORTED_FINDINGS = 5000
NOT_AUDITED = "registry-not-audited"
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
    partial: str | None = None  # why part of the fleet was not audited (None: all of it was)

    @property
    def clean(self) -> bool:
        """The whole fleet was audited and no finding is worse than info."""
        return self.partial is None and not any(
            f.severity is not Severity.INFO for f in self.findings
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "startedAt": self.started_at.isoformat(),
            "finishedAt": self.finished_at.isoformat(),
            "registries": list(self.registries),
            "counts": dict(self.counts),
            "partial": self.partial is not None,
            "partialReason": self.partial,
            "findings": [f.to_dict() for f in self.findings[:MAX_REPORTED_FINDINGS]],
            "findingsTruncated": len(self.findings) > MAX_REPORTED_FINDINGS,
            "plan": self.plan.to_dict() | {"id": self.plan.id},
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


def observe_and_plan(
    ctx: Context,
    registries: Sequence[ResourceId],
    *,
    progress: Callable[[str], None] | None = None,
    partial: bool = False,
) -> tuple[list[Finding], Plan, list[ObservedRegistry]]:
    """Observe the registries and judge them; returns findings, the plan of safe fixes and what
    was read of each registry. `progress` hears each registry's name once it is judged;
    `partial` judges the registries that could be read in time and names the others in a
    `registry-not-audited` finding each."""
    policies = [p.policy for p in ctx.policies.list_policies()]
    observation = observe(ctx, registries, partial=partial)
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
    findings += (
        Finding(
            NOT_AUDITED,
            Severity.WARNING,
            str(registry),
            f"{registry.name} was not audited: {why}",
            "the next audit reads it again; a larger ARM_READ_RESERVE leaves more of the budget "
            "to other tools, a smaller one lets the audit read faster",
        )
        for registry, why in observation.skipped.items()
    )
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
    partial: str | None = None
    with waits_until(started + AUDIT_WAIT_BUDGET):
        try:
            findings, plan, _ = observe_and_plan(ctx, targets, progress=progress, partial=True)
        except ThrottleBudgetError as error:  # a phase after the registries' reads ran out
            findings, plan = [], Plan("audit:" + ",".join(sorted(r.name.lower() for r in targets)))
            partial = f"ARM's throttling left no time to finish the audit: {error}"
    skipped = [f for f in findings if f.kind == NOT_AUDITED]
    if skipped and partial is None:
        partial = f"{len(skipped)} of {len(targets)} registries not audited: {skipped[0].message}"
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
        partial,
    )
    if ctx.reports is not None:
        ctx.reports.save_report(report.to_dict())
    return report


def apply_plan(ctx: Context, plan: Plan, *, signal_id: str) -> tuple[Outcome, ...]:
    """Carry out a plan's actions with the appliers every reaction uses."""
    return apply_actions(ctx, plan.actions, signal_id=signal_id)
