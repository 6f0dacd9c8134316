"""New repositories: create the cache rule the policy table prescribes, or record why not.

Signals: a pull failure with 404 for a repository no rule serves (the target path is mapped back
to its upstream through the policy templates), a `cachekeeper.RepositoryRequested` event, and
`POST /api/repositories`. Every signal runs the same assessment (policy decision, then ACR's own
pre-checks against the registry's current state); a dry run and `POST /api/policies/test` return
that assessment, and a real request applies exactly it, so their answers agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from shared.domain.actions import CacheRuleCreation
from shared.domain.audit import login_server_findings
from shared.domain.cache_rules import RuleSpec, check_new_rule, find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.plans import (
    Action,
    ActionKind,
    Finding,
    OutcomeStatus,
    Plan,
    Severity,
    fingerprint,
)
from shared.domain.policies import Decision, decide
from shared.domain.policy_targets import upstream_for_target
from shared.domain.refusals import CreateGuard
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.rule_budget import Deferral
from shared.errors import InvalidInputError, PermanentError
from shared.services.appliers.cache_rules import record_created
from shared.services.context import Context
from shared.services.records import record_findings, record_signal
from shared.services.repository_checks import prescribed_set, target_exists
from shared.services.results import Reaction, ReactionStatus
from shared.services.rule_budget import defer_rule, send_within_budget
from shared.services.rule_refusals import read_catalog, remember_refused_rule
from shared.signals.repository_requests import RepositoryRequest, read_repository_request

__all__ = ["parse_repository_request", "request", "request_repository", "request_target"]

log = logging.getLogger(__name__)
_ASK = "ask for a policy row that allows it"


@dataclass(frozen=True, slots=True)
class _Assessment:
    status: ReactionStatus  # PLANNED (a rule to create), NO_CHANGE or REJECTED
    reason: str
    plan: Plan
    decision: Decision | None = None
    spec: RuleSpec | None = None

    def details(self) -> dict[str, Any]:
        decision = self.decision
        rule = self.spec
        return {
            "decision": None if decision is None else {
                "allowed": decision.allowed, "reason": decision.reason,
                "policy": decision.policy.id if decision.policy else None,
            },
            "rule": None if rule is None else {
                "name": rule.name, "sourceRepository": str(rule.source),
                "targetRepository": str(rule.target), "credentialSet": rule.credential_set,
                "kind": "wildcard" if rule.is_wildcard else "static",
            },
        }  # fmt: skip


def parse_repository_request(ctx: Context, data: Any) -> RepositoryRequest:
    """`{"upstream": ...}` or `{"target": ...}` with `registry` (a managed registry's name or id;
    optional when only one registry is managed); InvalidInputError names the problem."""

    def registry(value: Any) -> ResourceId:
        if value is None:
            managed = ctx.settings.managed_registries
            if len(managed) != 1:
                raise InvalidInputError(
                    '"registry" is required when several registries are managed'
                )
            return managed[0]
        if isinstance(value, str) and value.strip().lower().startswith("/subscriptions/"):
            return ResourceId.parse(value.strip())
        if isinstance(value, str):
            return ctx.managed_registry(value.strip())
        raise InvalidInputError('"registry" must be a registry name or resource id')

    return read_repository_request(data, registry=registry)


def request(
    ctx: Context, wanted: RepositoryRequest, *, dry_run: bool = False, signal_id: str
) -> Reaction:
    """Handle a parsed request (by upstream or by target path)."""
    if wanted.upstream is not None:
        return request_repository(
            ctx, wanted.registry, wanted.upstream, dry_run=dry_run, signal_id=signal_id
        )
    assert wanted.target is not None  # parse_repository_request guarantees one of the two
    return request_target(ctx, wanted.registry, wanted.target, dry_run=dry_run, signal_id=signal_id)


def request_target(
    ctx: Context, registry: ResourceId, target: TargetPath, *, dry_run: bool = False,
    signal_id: str, signal_group: str | None = None,
) -> Reaction:  # fmt: skip
    """A request for a path inside the registry: map it back to its upstream through the policy
    templates, then handle it like a request for that upstream."""
    ignored = _unmanaged(ctx, registry, dry_run=dry_run, signal_id=signal_id)
    if ignored is not None:
        return ignored
    policies = [p.policy for p in ctx.policies.list_policies()]
    upstream = upstream_for_target(target, policies, registry=registry.name)
    if upstream is None:
        where = f"{registry.name}/{target}"
        finding = Finding("repository-request-refused", Severity.WARNING, where,
                          f"no allow row of the policy table maps a target to {target}",
                          "add a policy row whose targetTemplate produces this path, or request the upstream")  # fmt: skip
        refused = _Assessment(ReactionStatus.REJECTED, finding.message, Plan(where, (), (finding,)))
        return _finish(ctx, refused, dry_run=dry_run, signal_id=signal_id)
    return request_repository(ctx, registry, upstream, dry_run=dry_run, signal_id=signal_id,
                              signal_group=signal_group)  # fmt: skip


def request_repository(
    ctx: Context, registry: ResourceId, upstream: Upstream, *, dry_run: bool = False,
    signal_id: str, signal_group: str | None = None,
) -> Reaction:  # fmt: skip
    """Plan (and unless `dry_run`, create) the cache rule the policy prescribes for `upstream`,
    within the rule budgets of the signal (`signal_group`: an alert, one signal for all its
    repositories) and of the registry (`shared/services/rule_budget.py`)."""
    ignored = _unmanaged(ctx, registry, dry_run=dry_run, signal_id=signal_id)
    if ignored is not None:
        return ignored
    assessment = _assess(ctx, registry, upstream, dry_run=dry_run)
    if assessment.status is not ReactionStatus.PLANNED or dry_run:
        return _finish(ctx, assessment, dry_run=dry_run, signal_id=signal_id)
    spec, decision = assessment.spec, assessment.decision
    assert spec is not None  # a planned assessment carries its rule and decision
    assert decision is not None
    where = assessment.plan.scope
    (action,) = assessment.plan.actions
    try:
        created = send_within_budget(ctx, registry, action, signal_group=signal_group)
    except PermanentError as error:
        # State moved between the checks and the PUT (or ACR knows a rule we do not): its refusal
        # is the reason, and it is remembered so the same state does not ask again.
        remember_refused_rule(ctx, registry, spec, error)
        refused = _refusal(where, f"ACR refused rule {spec.name}: {error}", decision, spec)
        return _finish(ctx, refused, dry_run=False, signal_id=signal_id)
    if isinstance(created, Deferral):
        return defer_rule(ctx, created, assessment.plan, assessment.details(), signal_id=signal_id)
    outcome = record_created(ctx, action, signal_id, created)
    record_findings(ctx, assessment.plan.findings, signal_id=signal_id)  # warnings, if any
    state = outcome.health
    succeeded = outcome.status is OutcomeStatus.SUCCEEDED
    reason = f"created rule {spec.name}" if succeeded else f"rule {spec.name} ended {state}"
    status = ReactionStatus.APPLIED if succeeded else ReactionStatus.REJECTED
    return Reaction(status, reason, assessment.plan, (outcome,), assessment.details())


def _unmanaged(
    ctx: Context, registry: ResourceId, *, dry_run: bool, signal_id: str
) -> Reaction | None:
    if ctx.settings.manages_registry(registry):
        return None
    reason = f"registry {registry} is not managed"
    if not dry_run:
        record_signal(ctx, signal_id, str(registry), OutcomeStatus.IGNORED, reason)
    return Reaction(ReactionStatus.IGNORED, reason)


def _finish(ctx: Context, assessment: _Assessment, *, dry_run: bool, signal_id: str) -> Reaction:
    """Return an assessment that creates nothing; unless a dry run, record it in the journal."""
    status, reason = assessment.status, assessment.reason
    if dry_run:
        if status is ReactionStatus.PLANNED:
            assert assessment.spec is not None
            reason = f"would create rule {assessment.spec.name}"
        return Reaction(status, reason, assessment.plan, (), assessment.details())
    where = assessment.plan.scope
    if status is ReactionStatus.REJECTED:
        record_findings(ctx, assessment.plan.findings, signal_id=signal_id)
        outcome = record_signal(ctx, signal_id, where, OutcomeStatus.REJECTED, reason)
    else:
        outcome = record_signal(ctx, signal_id, where, OutcomeStatus.NO_CHANGE, reason)
    return Reaction(status, reason, assessment.plan, (outcome,), assessment.details())


def _refusal(
    where: str,
    message: str,
    decision: Decision | None,
    spec: RuleSpec | None,
    fix: str | None = None,
) -> _Assessment:
    finding = Finding("repository-request-refused", Severity.WARNING, where, message, fix)
    return _Assessment(
        ReactionStatus.REJECTED, message, Plan(where, (), (finding,)), decision, spec
    )


def _assess(
    ctx: Context, registry: ResourceId, upstream: Upstream, *, dry_run: bool
) -> _Assessment:
    """Decide and pre-check against current state; reads only. A static rule's target is read
    over the data plane for a dry run only: ARM refuses the PUT of a rule over an existing
    repository (docs/fidelity.md), which writes nothing and becomes the reason."""
    policies = [p.policy for p in ctx.policies.list_policies()]
    where = f"{registry.name}/{upstream}"
    rules = ctx.registry.list_cache_rules(registry)
    decision = decide(
        upstream, policies, registry=registry.name, taken_names=[r.name for r in rules]
    )
    if not decision.allowed or decision.rule is None:
        return _refusal(where, decision.reason, decision, None, _ASK)
    spec = decision.rule
    serving = _serving(spec, upstream, rules)
    if serving is not None:
        message = f"{upstream} is already served by rule {serving.name} ({serving.source} -> {serving.target})"
        return _Assessment(ReactionStatus.NO_CHANGE, message, Plan(where), decision, spec)
    sets = prescribed_set(ctx, registry, spec.credential_set) if spec.credential_set else None
    rule_id = registry.child("cacheRules", spec.name)
    guard = _guard(ctx, registry, spec, str(rule_id))
    known_sets = None if sets is None else [c.name for c in sets]
    reasons = check_new_rule(
        spec, rules, known_credential_sets=known_sets, repositories=guard.repositories
    )
    if guard.repositories is None and dry_run:
        reasons += target_exists(ctx, registry, spec)
    refused = None if reasons else guard.refusal(str(rule_id), spec, rules)
    if refused is not None:
        reasons.append(f"ARM refused it at {refused.at.isoformat()} ({refused.reason}) and the "
                       "registry's repositories and rules have not changed since")  # fmt: skip
    if reasons:
        return _refusal(
            where, f"cannot create rule {spec.name}: {'; '.join(reasons)}", decision, spec
        )
    creation = CacheRuleCreation(spec, decision.policy.id if decision.policy else None)
    action = Action(ActionKind.CREATE_CACHE_RULE, str(rule_id), decision.reason, creation)
    state = fingerprint([str(upstream), sorted(r.name for r in rules)])
    warnings = tuple(login_server_findings([_planned(registry, spec)], sets or []))
    return _Assessment(ReactionStatus.PLANNED, decision.reason, Plan(where, (action,), warnings, state), decision, spec)  # fmt: skip


def _guard(ctx: Context, registry: ResourceId, spec: RuleSpec, rule_id: str) -> CreateGuard:
    # A wildcard needs the catalog (any repository under its prefix blocks it); a static rule
    # needs it only to compare with a remembered refusal, else one point read answers.
    refusals = ctx.journal.refusals(str(registry))
    remembered = any(r.rule.lower() == rule_id.lower() for r in refusals)
    repositories = read_catalog(ctx, registry) if spec.is_wildcard or remembered else None
    return CreateGuard(repositories, tuple(refusals))


def _planned(registry: ResourceId, spec: RuleSpec) -> CacheRule:
    """The rule as it will exist, for the checks that judge existing rules."""
    credential_set = (
        registry.child("credentialSets", spec.credential_set) if spec.credential_set else None
    )
    return CacheRule(
        registry.child("cacheRules", spec.name), spec.source, spec.target, credential_set
    )


def _serving(spec: RuleSpec, upstream: Upstream, rules: list[CacheRule]) -> CacheRule | None:
    """The existing rule that already caches `upstream` where the policy wants it, if any."""
    for rule in rules:
        if rule.target == spec.target and rule.source == spec.source:
            return rule  # the same rule (static or wildcard) exists: asking again creates nothing
    if spec.is_wildcard:
        return None
    serving = find_serving_rule(spec.target, rules)
    if serving is None or not serving.is_wildcard:
        return None
    # a wildcard above the target serves it only if it maps the target to this very upstream
    rest = spec.target.path[len(serving.target.prefix) :]
    mapped = (*serving.source.path[:-1], *rest)
    return serving if (serving.source.host, mapped) == (upstream.host, upstream.path) else None
