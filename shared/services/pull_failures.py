"""React to pull failures: find the rule and credential set, diagnose, repair within policy.

A burst of failures for one credential set is diagnosed once per window (a claim per credential
set and window, through the same claim cycle as every signal), so 100 alerts in a minute cost one
diagnosis and at most one grant. A 404 for a repository no rule serves is a new repository: the
policy-table flow decides.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shared.domain.cache_rules import find_serving_rule
from shared.domain.models import CacheRule
from shared.domain.plans import Finding, OutcomeStatus, Plan, Severity
from shared.services.appliers import apply_actions
from shared.services.context import Context
from shared.services.diagnosis import diagnose_credential_set
from shared.services.once import handle_once
from shared.services.records import record_findings, record_signal, record_terminal
from shared.services.repositories import request_target
from shared.services.results import Reaction, ReactionStatus
from shared.signals.pull_failures import PullFailure

__all__ = ["COALESCING_WINDOW", "access_report", "diagnose_pull_failure"]

log = logging.getLogger(__name__)
COALESCING_WINDOW = timedelta(minutes=5)


def _window_key(ctx: Context, credential_set: str) -> str:
    now = ctx.clock.now()
    bucket = int(now.timestamp() // COALESCING_WINDOW.total_seconds())
    return f"pull:{credential_set.lower()}:{bucket}"


def _report(ctx: Context, signal_id: str, resource: str, finding: Finding) -> Reaction:
    record_findings(ctx, [finding], signal_id=signal_id)
    record_signal(ctx, signal_id, resource, OutcomeStatus.NO_CHANGE, finding.message)
    return Reaction(ReactionStatus.REPORTED, finding.message, Plan(resource, (), (finding,)))


def diagnose_pull_failure(ctx: Context, failure: PullFailure, signal_id: str) -> Reaction:
    """Diagnose (and in fix mode repair) what stops pulls of `failure.repository`."""
    rules = ctx.registry.list_cache_rules(failure.registry)
    rule = find_serving_rule(failure.repository, rules)
    where = f"{failure.registry.name}/{failure.repository}"
    if rule is None:
        if failure.status == 404:  # a new repository: treat it as a request for that path
            return request_target(ctx, failure.registry, failure.repository, signal_id=signal_id)
        return _report(ctx, signal_id, where, Finding(
            "pull-failure-not-cached", Severity.INFO, where,
            f"pulls of {where} failed with {failure.status}, but no cache rule serves it; not a cache problem",
            evidence={"status": failure.status, "checked": ["cache rules"]},
        ))  # fmt: skip
    if rule.credential_set_id is None:
        return _report(ctx, signal_id, str(rule.id), Finding(
            "pull-failure-unauthenticated-rule", Severity.WARNING, str(rule.id),
            f"pulls of {where} via rule {rule.name} failed with {failure.status}; the rule has no credential set, "
            f"so the upstream {rule.source} must allow anonymous pulls",
            fix=f"add a credential set to rule {rule.name} if {rule.source.host} needs authentication",
            evidence={"status": failure.status, "checked": ["cache rule", "credential set"]},
        ))  # fmt: skip
    credential_set = str(rule.credential_set_id)

    def coalesced() -> Reaction:
        # diagnosed within this window already; still the signal's one terminal outcome
        reason = f"{credential_set} was diagnosed within the last {COALESCING_WINDOW}"
        record_signal(ctx, signal_id, credential_set, OutcomeStatus.NO_CHANGE, reason)
        return Reaction(ReactionStatus.DUPLICATE, reason)

    return handle_once(
        ctx, key=_window_key(ctx, credential_set), payload_hash="pull-failure",
        signal_id=signal_id, resource=credential_set, keep=COALESCING_WINDOW,
        handle=lambda: _diagnose(ctx, rule, signal_id), duplicate=coalesced,
        busy=f"{credential_set} is being diagnosed by another worker", record_permanent=False,
    )  # fmt: skip


def _diagnose(ctx: Context, rule: CacheRule, signal_id: str) -> Reaction:
    assert rule.credential_set_id is not None
    credential_set = ctx.registry.get_credential_set(rule.credential_set_id)
    plan = diagnose_credential_set(ctx, credential_set, fix=ctx.settings.remediation_mode == "fix")
    outcomes = apply_actions(ctx, plan.actions, signal_id=signal_id)
    record_findings(ctx, plan.findings, signal_id=signal_id)
    nothing = f"{credential_set.name}: " + (
        f"{len(plan.findings)} finding(s) recorded" if plan.findings else "no problem found"
    )
    status = record_terminal(ctx, signal_id, str(credential_set.id), outcomes, nothing=nothing)
    if status is ReactionStatus.NO_CHANGE and plan.findings:
        status = ReactionStatus.REPORTED
    return Reaction(
        status, nothing if not outcomes else f"{len(outcomes)} repair(s) applied", plan, outcomes
    )


def access_report(ctx: Context, registry_name: str, name: str) -> Reaction:
    """The diagnosis of one credential set on demand (a plan: nothing is changed)."""
    credential_set = ctx.managed_credential_set(registry_name, name)
    plan = diagnose_credential_set(ctx, credential_set, fix=ctx.settings.remediation_mode == "fix")
    return Reaction(
        ReactionStatus.PLANNED,
        f"{len(plan.findings)} finding(s), {len(plan.actions)} repair(s) {'planned' if plan.actions else 'needed'}",
        plan,
        details={
            "health": credential_set.health.status.value,
            "principalId": credential_set.principal_id,
        },
    )
