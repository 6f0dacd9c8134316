"""The audit: every managed registry, concurrently, judged by the same planners the reactions use.

Findings: policy drift and unmanaged rules, missing wildcard rules, unhealthy credential sets,
secrets expiring within the horizon, pins behind the newest valid version (rotation planner),
identities that cannot read their secrets (diagnosis planner), dangling and unused credential
sets, the rule-count limit. With `reconcile` (AUTO_RECONCILE) the safe fixes are applied through
the same code as the reactions: rotations, access repairs in `fix` mode, missing wildcard rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.domain.audit import expiry_findings, missing_wildcard_rules, registry_findings
from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, VaultAccess
from shared.domain.plans import (
    Action,
    ActionKind,
    Finding,
    Outcome,
    OutcomeStatus,
    Plan,
    Severity,
    fingerprint,
)
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.rotation import plan_rotation
from shared.errors import InvalidInputError, PermanentError
from shared.services.context import Context, fan_out
from shared.services.credential_sets import apply_rotation, last_refreshes, observe_versions
from shared.services.diagnosis import apply_access_repair, diagnose_credential_set, vault_id_for

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


@dataclass(frozen=True, slots=True)
class _Registry:
    id: ResourceId
    rules: list[CacheRule]
    sets: list[CredentialSet]


def _observe_registry(ctx: Context, registry: ResourceId) -> _Registry:
    rules, sets = fan_out(
        lambda read: read(registry),
        [ctx.registry.list_cache_rules, ctx.registry.list_credential_sets],
    )
    return _Registry(registry, rules, sets)  # type: ignore[arg-type]


def observe_and_plan(
    ctx: Context, registries: Sequence[ResourceId], *, progress: Callable[[str], None] | None = None
) -> tuple[list[Finding], Plan, list[_Registry]]:
    """Observe the registries and judge them; returns findings and the plan of safe fixes."""

    def observe(registry: ResourceId) -> _Registry:
        observed = _observe_registry(ctx, registry)
        if progress:
            progress(registry.name)
        return observed

    observed = fan_out(observe, registries, limit=16)
    sets = [c for r in observed for c in r.sets]
    secrets = sorted({s.versionless() for c in sets for s in c.secrets()}, key=str)
    versions, missing = observe_versions(ctx, secrets)
    vault_ids = sorted(
        {v for v in (vault_id_for(ctx, s) for s in secrets) if v is not None}, key=str
    )
    vaults: dict[ResourceId, VaultAccess] = dict(
        zip(vault_ids, fan_out(ctx.access.vault_access, vault_ids), strict=True)
    )
    policies = [p.policy for p in ctx.policies.list_policies()]
    now = ctx.clock.now()
    findings: list[Finding] = [*missing]
    for registry in observed:
        findings.extend(registry_findings(registry.id, registry.rules, registry.sets, policies))
    findings.extend(
        expiry_findings(
            versions, sets, now=now, horizon=timedelta(days=ctx.settings.expiry_horizon_days)
        )
    )
    rotation = plan_rotation(
        versions=versions,
        credential_sets=sets,
        now=now,
        last_refresh=last_refreshes(ctx, sets),
        refresh_when_unknown=False,
    )
    findings.extend(rotation.findings)
    findings.extend(
        Finding(
            "credential-set-behind",
            Severity.WARNING,
            a.resource,
            a.reason,
            "POST /api/apply with this audit's plan",
        )
        for a in rotation.actions
        if a.kind is ActionKind.UPDATE_CREDENTIAL_SET
    )
    fix = ctx.settings.remediation_mode == "fix"
    diagnoses = fan_out(
        lambda c: diagnose_credential_set(ctx, c, fix=fix, versions=versions, vaults=vaults),
        sets,
        limit=16,
    )
    access_actions: list[Action] = []
    for diagnosis in diagnoses:
        findings.extend(
            f for f in diagnosis.findings if f.kind != "secret-unusable"
        )  # expiry/rotation say it better
        access_actions.extend(diagnosis.actions)
    create_rules = [
        Action(
            kind=ActionKind.CREATE_CACHE_RULE,
            resource=str(r.id.child("cacheRules", spec.name)),
            reason=f"policy prescribes {spec.source} -> {spec.target}",
            changes={
                "sourceRepository": str(spec.source),
                "targetRepository": str(spec.target),
                "credentialSet": spec.credential_set,
            },
        )
        for r in observed
        for spec in missing_wildcard_rules(r.id, r.rules, policies)
    ]
    # a credential set is refreshed once even when both the rotation and the diagnosis ask for it
    unique: dict[tuple[ActionKind, str], Action] = {}
    for action in (*access_actions, *rotation.actions, *create_rules):
        unique.setdefault((action.kind, action.resource.lower()), action)
    actions = tuple(unique.values())
    state = {"rotation": rotation.state_fingerprint, "diagnoses": [d.state_fingerprint for d in diagnoses],
             "rules": sorted(str(rule.id).lower() for r in observed for rule in r.rules)}  # fmt: skip
    plan = Plan(
        "audit:" + ",".join(sorted(r.name.lower() for r in registries)),
        actions,
        tuple(findings),
        fingerprint(state),
    )
    return findings, plan, observed


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
        outcome = Outcome(
            signal_id,
            action.resource,
            OutcomeStatus.FAILED,
            f"{action.reason}; failed: {error}",
            ctx.clock.now(),
            action.kind,
        )
    else:
        outcome = Outcome(signal_id, str(created.id), OutcomeStatus.SUCCEEDED, action.reason, ctx.clock.now(),
                          action.kind, {}, dict(action.changes), created.provisioning_state)  # fmt: skip
    ctx.journal.record_outcome(outcome)
    return outcome


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
