"""React to pull failures: find the rule and credential set, diagnose, repair within policy.

Both sides of a pull are diagnosed: the cache rule's credential set (its identity reading its Key
Vault secrets) and, when the signal names who pulled, that puller's own right to pull the
repository (`shared/services/puller_diagnosis.py`); a failure with both causes reports both.

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
from shared.domain.plans import Action, Finding, OutcomeStatus, Plan, Severity
from shared.errors import PermanentError
from shared.ports import ClaimStatus, PendingSignal
from shared.services.appliers import apply_actions
from shared.services.context import Context
from shared.services.diagnosis import diagnose_credential_set
from shared.services.once import IN_PROGRESS_TTL, handle_once
from shared.services.pending import join_in_flight, recheck_id, run_with_rechecks
from shared.services.puller_diagnosis import diagnose_puller
from shared.services.records import record_findings, record_signal, record_terminal
from shared.services.repositories import request_target
from shared.services.results import Reaction, ReactionStatus
from shared.signals.pull_failures import PullFailure, dump_failure, load_failure

__all__ = [
    "COALESCING_WINDOW",
    "access_report",
    "diagnose_pull_failure",
    "recheck",
    "sweep_pending",
]

log = logging.getLogger(__name__)
COALESCING_WINDOW = timedelta(minutes=5)
_CLAIM = "pull-failure"  # the payload hash of every diagnosis window's claim


def _window_key(ctx: Context, subject: str) -> str:
    now = ctx.clock.now()
    bucket = int(now.timestamp() // COALESCING_WINDOW.total_seconds())
    return f"pull:{subject.lower()}:{bucket}"


def _report(ctx: Context, signal_id: str, resource: str, finding: Finding) -> Reaction:
    record_findings(ctx, [finding], signal_id=signal_id)
    record_signal(ctx, signal_id, resource, OutcomeStatus.NO_CHANGE, finding.message)
    return Reaction(ReactionStatus.REPORTED, finding.message, Plan(resource, (), (finding,)))


def _rule_finding(failure: PullFailure, rule: CacheRule | None) -> Finding | None:
    """What the cache side says when no credential set can be diagnosed (None: diagnose it)."""
    where = f"{failure.registry.name}/{failure.repository}"
    if rule is None:
        return Finding(
            "pull-failure-not-cached", Severity.INFO, where,
            f"pulls of {where} failed with {failure.status}, but no cache rule serves it; not a cache problem",
            evidence={"status": failure.status, "checked": ["cache rules"]},
        )  # fmt: skip
    if rule.credential_set_id is None:
        return Finding(
            "pull-failure-unauthenticated-rule", Severity.WARNING, str(rule.id),
            f"pulls of {where} via rule {rule.name} failed with {failure.status}; the rule has no credential set, "
            f"so the upstream {rule.source} must allow anonymous pulls",
            fix=f"add a credential set to rule {rule.name} if {rule.source.host} needs authentication",
            evidence={"status": failure.status, "checked": ["cache rule", "credential set"]},
        )  # fmt: skip
    return None


def diagnose_pull_failure(ctx: Context, failure: PullFailure, signal_id: str) -> Reaction:
    """Diagnose (and in fix mode repair) what stops pulls of `failure.repository`: the cache
    rule's credential set and, when the signal names who pulled, that puller's rights."""
    rules = ctx.registry.list_cache_rules(failure.registry)
    rule = find_serving_rule(failure.repository, rules)
    if rule is None and failure.status == 404:  # a new repository: a request for that path
        return request_target(ctx, failure.registry, failure.repository, signal_id=signal_id,
                              signal_group=failure.origin)  # fmt: skip
    cache_side = _rule_finding(failure, rule)
    if cache_side is not None and failure.puller is None:
        return _report(ctx, signal_id, cache_side.resource, cache_side)
    subject = cache_side.resource if cache_side is not None else str(rule.credential_set_id)  # type: ignore[union-attr]
    key = subject
    if failure.puller is not None:
        key = f"{subject}:{failure.puller.kind.value}:{failure.puller.id}"

    def coalesced() -> Reaction:
        # diagnosed within this window already; still the signal's one terminal outcome
        reason = f"{subject} was diagnosed within the last {COALESCING_WINDOW}"
        record_signal(ctx, signal_id, subject, OutcomeStatus.NO_CHANGE, reason)
        return Reaction(ReactionStatus.DUPLICATE, reason)

    window = _window_key(ctx, key)
    return handle_once(
        ctx, key=window, payload_hash=_CLAIM, signal_id=signal_id, resource=subject,
        keep=COALESCING_WINDOW, duplicate=coalesced, record_permanent=False,
        handle=lambda: run_with_rechecks(
            ctx, window, lambda _: _diagnose(ctx, failure, rule, cache_side, signal_id),
            lambda pending: recheck(ctx, pending),
        ),
        coalesce=lambda: join_in_flight(
            ctx, window, signal_id=signal_id, payload=dump_failure(failure),
            resource=subject, subject=subject,
        ),
    )  # fmt: skip


def recheck(ctx: Context, pending: PendingSignal) -> Reaction:
    """Diagnose again for a failure that arrived while a diagnosis was running (its outcomes
    under the re-check's own signal id); a permanent error is that re-check's outcome."""
    signal_id = recheck_id(pending)
    try:
        failure = load_failure(pending.payload)
        rules = ctx.registry.list_cache_rules(failure.registry)
        rule = find_serving_rule(failure.repository, rules)
        return _diagnose(ctx, failure, rule, _rule_finding(failure, rule), signal_id)
    except PermanentError as error:
        record_signal(ctx, signal_id, pending.key, OutcomeStatus.FAILED, str(error))
        return Reaction(ReactionStatus.REJECTED, str(error))


def sweep_pending(ctx: Context) -> list[Reaction]:
    """Re-check every pending failure whose diagnosis nobody is running (its worker died, or
    it arrived as the diagnosis finished): the verification timer and every audit run this."""
    done: list[Reaction] = []
    for pending in ctx.journal.pending_signals():
        reaction = _sweep_one(ctx, pending)
        if reaction.status is ReactionStatus.DUPLICATE:
            # the window's diagnosis completed without it: release that window, take it again
            window = ctx.journal.claim(
                pending.key, _CLAIM, now=ctx.clock.now(), ttl=IN_PROGRESS_TTL
            )
            if window.status is ClaimStatus.DUPLICATE:
                ctx.journal.release(window)
            reaction = _sweep_one(ctx, pending)
        done.append(reaction)
    return done


def _sweep_one(ctx: Context, pending: PendingSignal) -> Reaction:
    def first(waiting: PendingSignal | None) -> Reaction:
        if waiting is None:  # handled between the listing and the claim
            return Reaction(ReactionStatus.NO_CHANGE, "re-checked already")
        return recheck(ctx, waiting)

    return handle_once(
        ctx, key=pending.key, payload_hash=_CLAIM, signal_id=recheck_id(pending),
        resource=pending.key, keep=COALESCING_WINDOW, record_permanent=False,
        handle=lambda: run_with_rechecks(ctx, pending.key, first, lambda p: recheck(ctx, p)),
        duplicate=lambda: Reaction(ReactionStatus.DUPLICATE, "the window was diagnosed"),
        coalesce=lambda: Reaction(ReactionStatus.NO_CHANGE, "its diagnosis is running"),
    )  # fmt: skip


def _diagnose(
    ctx: Context,
    failure: PullFailure,
    rule: CacheRule | None,
    cache_side: Finding | None,
    signal_id: str,
) -> Reaction:
    fix = ctx.settings.remediation_mode == "fix"
    findings: list[Finding] = [cache_side] if cache_side is not None else []
    actions: list[Action] = []
    resource = cache_side.resource if cache_side is not None else ""
    summary: list[str] = []
    if cache_side is None and rule is not None and rule.credential_set_id is not None:
        credential_set = ctx.registry.get_credential_set(rule.credential_set_id)
        plan = diagnose_credential_set(ctx, credential_set, fix=fix)
        findings += plan.findings
        actions += plan.actions
        resource = str(credential_set.id)
        summary.append(
            f"{credential_set.name}: "
            + (f"{len(plan.findings)} finding(s) recorded" if plan.findings else "no problem found")
        )
    if failure.puller is not None:
        puller_findings, puller_actions = diagnose_puller(
            ctx, failure.registry, str(failure.repository), failure.puller, fix=fix
        )
        findings += puller_findings
        actions += puller_actions
        summary.append(
            f"{failure.puller.describe()}: " + ("cannot pull" if puller_findings else "may pull")
        )
    outcomes = apply_actions(ctx, actions, signal_id=signal_id)
    record_findings(ctx, findings, signal_id=signal_id)
    nothing = "; ".join(summary) or "no problem found"
    status = record_terminal(ctx, signal_id, resource, outcomes, nothing=nothing)
    if status is ReactionStatus.NO_CHANGE and findings:
        status = ReactionStatus.REPORTED
    plan_out = Plan(resource, tuple(actions), tuple(findings))
    return Reaction(
        status,
        nothing if not outcomes else f"{len(outcomes)} repair(s) applied",
        plan_out,
        outcomes,
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
