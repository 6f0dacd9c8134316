"""React to pull failures: find the rule and credential set, diagnose, repair within policy.

A burst of failures for one credential set is diagnosed once per window (idempotency key per
credential set and window), so 100 alerts in a minute cost one diagnosis and at most one grant.
A 404 for a repository no rule serves is a new repository: the policy-table flow decides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from shared.domain.cache_rules import find_serving_rule
from shared.domain.plans import Finding, Outcome, OutcomeStatus, Plan, Severity
from shared.errors import ConcurrencyError, InvalidEventError
from shared.events import Envelope
from shared.ports import ClaimStatus
from shared.pull_events import PullFailure, parse_pull_failed, parse_pull_failure_alert
from shared.services.context import Context
from shared.services.credential_sets import record_findings, terminal_outcome
from shared.services.diagnosis import apply_access_repair, diagnose_credential_set
from shared.services.once import event_id_of, handle_once, reject_event
from shared.services.results import Reaction, ReactionStatus

__all__ = [
    "COALESCING_WINDOW",
    "access_report",
    "react_to_pull_failed_event",
    "react_to_pull_failure",
    "react_to_pull_failure_alert",
]

log = logging.getLogger(__name__)
COALESCING_WINDOW = timedelta(minutes=5)
_HOLD = timedelta(minutes=10)


def _window_key(ctx: Context, credential_set: str) -> str:
    now = ctx.clock.now()
    bucket = int(now.timestamp() // COALESCING_WINDOW.total_seconds())
    return f"pull:{credential_set.lower()}:{bucket}"


def _report(ctx: Context, signal_id: str, resource: str, finding: Finding) -> Reaction:
    record_findings(ctx, [finding], signal_id=signal_id)
    ctx.journal.record_outcome(
        Outcome(signal_id, resource, OutcomeStatus.NO_CHANGE, finding.message, ctx.clock.now())
    )
    return Reaction(ReactionStatus.REPORTED, finding.message, Plan(resource, (), (finding,)))


def react_to_pull_failure(failure: PullFailure, ctx: Context, *, signal_id: str) -> Reaction:
    """Diagnose (and in fix mode repair) what stops pulls of `failure.repository`."""
    if not ctx.settings.manages_registry(failure.registry):
        reason = f"registry {failure.registry} is not managed"
        ctx.journal.record_outcome(
            Outcome(
                signal_id, str(failure.registry), OutcomeStatus.IGNORED, reason, ctx.clock.now()
            )
        )
        return Reaction(ReactionStatus.IGNORED, reason)
    rules = ctx.registry.list_cache_rules(failure.registry)
    rule = find_serving_rule(failure.repository, rules)
    where = f"{failure.registry.name}/{failure.repository}"
    if rule is None:
        if failure.status == 404:
            from shared.services.repositories import request_from_pull_failure

            return request_from_pull_failure(ctx, failure, signal_id=signal_id)
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
    key = _window_key(ctx, str(rule.credential_set_id))
    claim = ctx.journal.claim(key, "pull-failure", now=ctx.clock.now(), ttl=_HOLD)
    if claim.status is ClaimStatus.DUPLICATE:
        # coalesced into the diagnosis of this window; still the signal's one terminal outcome
        reason = f"{rule.credential_set_id} was diagnosed within the last {COALESCING_WINDOW}"
        ctx.journal.record_outcome(
            Outcome(signal_id, str(rule.credential_set_id), OutcomeStatus.NO_CHANGE, reason,
                    ctx.clock.now())
        )  # fmt: skip
        return Reaction(ReactionStatus.DUPLICATE, reason)
    if claim.status is ClaimStatus.IN_PROGRESS:
        raise ConcurrencyError(f"{rule.credential_set_id} is being diagnosed by another worker")
    try:
        credential_set = ctx.registry.get_credential_set(rule.credential_set_id)
        plan = diagnose_credential_set(
            ctx, credential_set, fix=ctx.settings.remediation_mode == "fix"
        )
        outcomes = apply_access_repair(ctx, plan, signal_id=signal_id)
        record_findings(ctx, plan.findings, signal_id=signal_id)
        nothing = f"{credential_set.name}: " + (
            f"{len(plan.findings)} finding(s) recorded" if plan.findings else "no problem found"
        )
        status = terminal_outcome(ctx, signal_id, str(credential_set.id), outcomes, nothing=nothing)
    except BaseException:
        ctx.journal.release(key)
        raise
    ctx.journal.complete(key, now=ctx.clock.now(), ttl=COALESCING_WINDOW)
    if status is ReactionStatus.NO_CHANGE and plan.findings:
        status = ReactionStatus.REPORTED
    return Reaction(
        status, nothing if not outcomes else f"{len(outcomes)} repair(s) applied", plan, outcomes
    )


def react_to_pull_failed_event(event: Mapping[str, Any], ctx: Context) -> Reaction:
    """Handle a `cachekeeper.PullFailed` event; malformed ones are recorded and acknowledged."""
    try:
        envelope = Envelope.from_dict(event)
        failure = parse_pull_failed(envelope)
    except InvalidEventError as error:
        reason = f"malformed PullFailed event: {error}"
        return reject_event(ctx, event_id_of(event), "pull-failed-event", reason)
    return handle_once(
        ctx,
        key=f"pullfailed:{envelope.id}",
        payload_hash=envelope.payload_hash,
        signal_id=envelope.id,
        resource=f"{failure.registry.name}/{failure.repository}",
        handle=lambda: react_to_pull_failure(failure, ctx, signal_id=envelope.id),
    )


def react_to_pull_failure_alert(payload: Any, ctx: Context) -> list[Reaction]:
    """Handle a common-alert-schema payload: one reaction per failing repository; a Resolved
    alert changes nothing. A malformed payload raises InvalidEventError (the caller answers 400)."""
    alert = parse_pull_failure_alert(payload)
    if not alert.fired:
        return [Reaction(ReactionStatus.NO_CHANGE, "the alert is resolved")]
    suffix = alert.alert_id.rsplit("/", 1)[-1]
    return [
        react_to_pull_failure(
            failure, ctx, signal_id=f"alert-{suffix}-{failure.registry.name}-{failure.repository}"
        )
        for failure in alert.failures
    ]


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
