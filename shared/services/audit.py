"""The audit: every managed registry, concurrently, judged by the same planners the reactions use.

Findings: policy drift and unmanaged rules, missing wildcard rules, unhealthy credential sets,
secrets expiring within the horizon, pins behind the newest valid version (rotation planner),
identities that cannot read their secrets (diagnosis planner), dangling and unused credential
sets, the rule-count limit. With `reconcile` (AUTO_RECONCILE) the safe fixes are applied through
the same code as the reactions: rotations, access repairs in `fix` mode, missing wildcard rules.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from shared.domain.actions import CacheRuleCreation
from shared.domain.audit import (
    expiry_findings,
    missing_wildcard_rules,
    registry_findings,
    squatting_findings,
)
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, SecretVersion, VaultAccess
from shared.domain.plans import (
    Action,
    ActionKind,
    Finding,
    Outcome,
    Plan,
    Severity,
    fingerprint,
)
from shared.domain.policies import Policy, PolicyIndex
from shared.domain.repositories import TargetPath
from shared.domain.rotation import plan_rotation
from shared.domain.secrets import SecretRef
from shared.errors import PermanentError
from shared.services.access_checks import RoleAssignmentLists
from shared.services.appliers import apply_actions
from shared.services.context import MAX_CONCURRENCY, Context
from shared.services.credential_sets import last_refreshes, observe_versions
from shared.services.diagnosis import diagnose_credential_set, vault_id_for
from shared.services.gc_pause import cyclic_gc_paused
from shared.services.log_routing import registry_log_routing

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


# Each registry's cache rules are a chain of pages (ARM's nextLink), the audit's bulk: every
# registry's chain runs at once, up to this many, from one event loop (the Registry port's
# batch). The vaults' reads run in a pool of their own, and the other reads (credential sets,
# secret versions, repositories) and the diagnoses share a pool of MAX_CONCURRENCY threads.
MAX_RULE_CHAINS = 32

_T = TypeVar("_T")
_Versions = tuple[dict[SecretRef, list[SecretVersion]], list[Finding]]  # observe_versions' answer


@dataclass(frozen=True, slots=True)
class _Registry:
    id: ResourceId
    rules: list[CacheRule]
    sets: list[CredentialSet]
    findings: list[Finding] = field(default_factory=list)
    diagnoses: _Diagnoses | None = None

    def plans(self) -> list[Plan]:
        """The diagnoses of the registry's credential sets, in the sets' order (waits for them)."""
        return self.diagnoses.plans() if self.diagnoses is not None else []


class _Diagnoses:
    """The diagnoses of one registry's credential sets: one task per group of sets that read the
    same vaults, queued when that group's reads are in (a set in an access-policy vault does not
    wait for an RBAC vault's role assignments), each running its sets one after the other."""

    def __init__(self, count: int) -> None:
        self._count = count
        self._groups: list[tuple[list[int], Future[list[Plan]]]] = []

    def add(self, indexes: list[int], plans: Future[list[Plan]]) -> None:
        self._groups.append((indexes, plans))

    def plans(self) -> list[Plan]:
        ordered: list[Plan | None] = [None] * self._count
        for indexes, group in self._groups:
            for index, plan in zip(indexes, group.result(), strict=True):
                ordered[index] = plan
        return [p for p in ordered if p is not None]


def _after(inputs: Sequence[Future[Any]], start: Callable[[], Future[_T]]) -> Future[_T]:
    """A future of `start()`'s, called once every input is done (in the thread that finished
    the last one), so work waiting for reads is queued only when it can run."""
    outcome: Future[_T] = Future()
    waiting = [len(inputs)]
    lock = threading.Lock()

    def relay(started: Future[_T]) -> None:
        error = started.exception()
        if error is None:
            outcome.set_result(started.result())
        else:
            outcome.set_exception(error)

    def one_done(_: Future[Any] | None) -> None:
        with lock:
            waiting[0] -= 1
            if waiting[0] > 0:
                return
        try:
            start().add_done_callback(relay)
        except BaseException as error:  # the caller sees it through the future
            outcome.set_exception(error)

    if not inputs:
        waiting[0] = 1
        one_done(None)
    for future in inputs:
        future.add_done_callback(one_done)
    return outcome


class _Observation:
    """Starts every read as soon as what it depends on is known: every allow-listed vault's reads
    (its permission model, then its one list of everyone's role assignments) at once, and a
    registry's credential sets start its secrets' version lists while the registries' rule pages
    are still coming; a credential set's diagnosis is queued once its reads are in.

    Each vault's reads run in a pool of their own: an RBAC vault's role-assignment pages are the
    audit's longest chain and must not queue behind the registries' other reads (the pool is
    shut down before the main one, whose diagnoses they queue). A pool thread never waits for
    another task, so the bounded pools cannot deadlock; a vault that no credential set reads
    has its failures ignored."""

    def __init__(
        self, ctx: Context, pool: ThreadPoolExecutor, vault_pool: ThreadPoolExecutor, *, fix: bool
    ) -> None:
        self._ctx = ctx
        self._pool = pool
        self._vault_pool = vault_pool
        self._fix = fix
        self._lock = threading.Lock()
        self.versions: dict[SecretRef, Future[_Versions]] = {}
        self._vaults: dict[ResourceId, Future[VaultAccess]] = {}
        self._lists = RoleAssignmentLists(ctx, whole_vault=True)

    def credential_sets(self, registry: ResourceId) -> tuple[list[CredentialSet], _Diagnoses]:
        """List the registry's credential sets and start everything that depends on them."""
        sets = self._ctx.registry.list_credential_sets(registry)
        return sets, self._start_diagnoses(sets)

    def _read_versions(self, secret: SecretRef) -> _Versions:
        return observe_versions(self._ctx, [secret])  # a missing secret is a finding

    def _read_vault(self, vault: ResourceId) -> VaultAccess:
        access = self._ctx.access.vault_access(vault)
        if access.rbac:
            self._lists.load_vault(vault)  # every identity's checks in this vault answer from it
        return access

    def vaults(self, vaults: Sequence[ResourceId]) -> None:
        """Start reading these vaults now (the allow-listed ones, before any credential set says
        which it uses): their role-assignment lists are the audit's longest chain."""
        with self._lock:
            for vault in vaults:
                self._start_vault(vault)

    def _start_vault(self, vault: ResourceId) -> Future[VaultAccess]:
        # under self._lock
        if vault not in self._vaults:
            self._vaults[vault] = self._vault_pool.submit(self._read_vault, vault)
        return self._vaults[vault]

    def _start_diagnoses(self, sets: list[CredentialSet]) -> _Diagnoses:
        groups: dict[tuple[ResourceId, ...], list[int]] = {}
        versions: dict[SecretRef, Future[_Versions]] = {}
        vaults: dict[ResourceId, Future[VaultAccess]] = {}
        with self._lock:
            for index, credential_set in enumerate(sets):
                read: list[ResourceId] = []
                for secret in credential_set.secrets():
                    key = secret.versionless()
                    if key not in self.versions:
                        self.versions[key] = self._pool.submit(self._read_versions, key)
                    versions[key] = self.versions[key]
                    vault = vault_id_for(self._ctx, secret)
                    if vault is not None:
                        vaults[vault] = self._start_vault(vault)
                        read.append(vault)
                groups.setdefault(tuple(sorted(set(read), key=str)), []).append(index)
        diagnoses = _Diagnoses(len(sets))
        for group_vaults, indexes in groups.items():
            members = [sets[i] for i in indexes]
            inputs: list[Future[Any]] = [vaults[v] for v in group_vaults]
            inputs += [versions[s.versionless()] for c in members for s in c.secrets()]

            def start(members: list[CredentialSet] = members) -> Future[list[Plan]]:
                return self._pool.submit(self._diagnose, members, versions, vaults)

            diagnoses.add(indexes, _after(inputs, start))
        return diagnoses

    def _diagnose(
        self,
        members: list[CredentialSet],
        versions: dict[SecretRef, Future[_Versions]],
        vaults: dict[ResourceId, Future[VaultAccess]],
    ) -> list[Plan]:
        plans = []
        for credential_set in members:
            found: dict[SecretRef, list[SecretVersion]] = {}
            models: dict[ResourceId, VaultAccess] = {}
            for secret in credential_set.secrets():
                found.update(versions[secret.versionless()].result()[0])
                vault = vault_id_for(self._ctx, secret)
                if vault is not None:
                    models[vault] = vaults[vault].result()
            plans.append(
                diagnose_credential_set(
                    self._ctx,
                    credential_set,
                    fix=self._fix,
                    versions=found,
                    vaults=models,
                    lists=self._lists,
                )
            )
        return plans


def _repositories(ctx: Context, registry: ResourceId) -> tuple[list[TargetPath], list[Finding]]:
    """The registry's repositories, or a finding saying why the squatting check was skipped."""
    try:
        return ctx.registry.list_repositories(registry), []
    except PermanentError as error:
        return [], [
            Finding(
                "repositories-unreadable",
                Severity.INFO,
                str(registry),
                f"cannot list the repositories of {registry.name}, so squatted policy targets were not checked: {error}",
                "give the app's identity catalog read access (AcrPull) on the registry",
            )
        ]


def observe_and_plan(
    ctx: Context, registries: Sequence[ResourceId], *, progress: Callable[[str], None] | None = None
) -> tuple[list[Finding], Plan, list[_Registry]]:
    """Observe the registries and judge them; returns findings and the plan of safe fixes. The
    cyclic garbage collector is paused meanwhile (gc_pause.py): it kept re-walking the audit's
    own results."""
    with cyclic_gc_paused():
        return _observe_and_plan(ctx, registries, progress=progress)


def _observe_and_plan(
    ctx: Context, registries: Sequence[ResourceId], *, progress: Callable[[str], None] | None = None
) -> tuple[list[Finding], Plan, list[_Registry]]:
    policies = [p.policy for p in ctx.policies.list_policies()]
    policy_index = PolicyIndex(policies)  # one for every registry: they repeat their upstreams
    fix = ctx.settings.remediation_mode == "fix"
    with (
        ThreadPoolExecutor(max_workers=MAX_CONCURRENCY) as pool,
        ThreadPoolExecutor(max_workers=MAX_CONCURRENCY) as vault_pool,
    ):
        observation = _Observation(ctx, pool, vault_pool, fix=fix)
        observation.vaults(ctx.settings.vault_allowlist)
        set_lists = [pool.submit(observation.credential_sets, r) for r in registries]
        catalogs = [pool.submit(_repositories, ctx, r) for r in registries]
        log_routing = [pool.submit(registry_log_routing, ctx, r) for r in registries]

        # the rule chains, from this thread, while the pool reads everything else
        rule_lists = ctx.registry.list_cache_rules_of(registries, limit=MAX_RULE_CHAINS)

        def judge(index: int, rules: list[CacheRule]) -> _Registry:
            registry = registries[index]
            sets, diagnoses = set_lists[index].result()
            judged = registry_findings(registry, rules, sets, policies, index=policy_index)
            repositories, unreadable = catalogs[index].result()
            judged += unreadable or squatting_findings(registry, repositories, rules, policies)
            judged += log_routing[index].result()
            if progress:
                progress(registry.name)
            return _Registry(registry, rules, sets, judged, diagnoses)

        observed = [judge(index, rules) for index, rules in enumerate(rule_lists)]
        # what the versions answer is judged while the vaults' role-assignment lists (the
        # longest reads after the rules) may still be paging for the diagnoses
        read = {secret: f.result() for secret, f in observation.versions.items()}
        sets = [c for r in observed for c in r.sets]
        versions: dict[SecretRef, list[SecretVersion]] = {}
        missing: list[Finding] = []
        for secret in sorted(read, key=str):  # as observe_versions orders them
            versions.update(read[secret][0])
            missing.extend(read[secret][1])
        now = ctx.clock.now()
        expiring = expiry_findings(
            versions, sets, now=now, horizon=timedelta(days=ctx.settings.expiry_horizon_days)
        )
        rotation = plan_rotation(
            versions=versions,
            credential_sets=sets,
            now=now,
            last_refresh=last_refreshes(ctx, sets),
            refresh_when_unknown=False,
        )
        create_rules = _missing_rules(observed, policies)
        rule_ids = fingerprint(sorted(rule.id.key for r in observed for rule in r.rules))
        diagnoses = [plan for r in observed for plan in r.plans()]  # the last to come in
    findings: list[Finding] = [*missing]
    for registry in observed:
        findings.extend(registry.findings)
    findings.extend(expiring)
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
    access_actions: list[Action] = []
    for diagnosis in diagnoses:
        findings.extend(
            f for f in diagnosis.findings if f.kind != "secret-unusable"
        )  # expiry/rotation say it better
        access_actions.extend(diagnosis.actions)
    # a credential set is refreshed once even when both the rotation and the diagnosis ask for it
    unique: dict[tuple[ActionKind, str], Action] = {}
    for action in (*access_actions, *rotation.actions, *create_rules):
        unique.setdefault((action.kind, action.resource.lower()), action)
    actions = tuple(unique.values())
    state = {"rotation": rotation.state_fingerprint, "diagnoses": [d.state_fingerprint for d in diagnoses],
             "rules": rule_ids}  # fmt: skip
    plan = Plan(
        "audit:" + ",".join(sorted(r.name.lower() for r in registries)),
        actions,
        tuple(findings),
        fingerprint(state),
    )
    return findings, plan, observed


def _missing_rules(observed: list[_Registry], policies: list[Policy]) -> list[Action]:
    """Create-rule actions for the wildcard rules the policy table prescribes and ACR lacks."""
    return [
        Action(
            kind=ActionKind.CREATE_CACHE_RULE,
            resource=str(r.id.child("cacheRules", spec.name)),
            reason=f"policy prescribes {spec.source} -> {spec.target}",
            changes=CacheRuleCreation(spec),
        )
        for r in observed
        for spec in missing_wildcard_rules(r.id, r.rules, policies)
    ]


def apply_plan(ctx: Context, plan: Plan, *, signal_id: str) -> tuple[Outcome, ...]:
    """Carry out a plan's actions with the appliers every reaction uses."""
    return apply_actions(ctx, plan.actions, signal_id=signal_id)


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
