"""Every journal write of a reaction: the outcomes of actions and signals, and findings.

Services never build an `Outcome` themselves: an applied action's outcome comes from
`record_action`, or `record_pending` when ACR's read-back does not confirm it yet (it opens a
pending verification, which `record_verdict` concludes and `record_recheck` moves on), a
signal's closing outcome from `record_terminal` (after actions) or `record_signal` (ignored,
rejected, failed, nothing to change), and findings from `record_findings`. One place, so every
record of one kind looks alike; it is also where the events that announce records are queued
(`event_publisher.announce`, before the record): an applied action, a failed verification, a
finding raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.domain.plans import Action, Finding, Outcome, OutcomeStatus
from shared.domain.product_events import action_applied, finding_raised, verification_failed
from shared.domain.secrets import SecretRef
from shared.domain.verification import ExpectedAssignment, PendingVerification
from shared.services.context import Context
from shared.services.event_publisher import announce
from shared.services.results import ReactionStatus

__all__ = [
    "record_action",
    "record_announcement",
    "record_findings",
    "record_pending",
    "record_recheck",
    "record_signal",
    "record_terminal",
    "record_verdict",
]

log = logging.getLogger(__name__)


def record_action(
    ctx: Context,
    action: Action,
    signal_id: str,
    *,
    error: Exception | None = None,
    failed: bool = False,
    resource: str | None = None,
    reason: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    health: str | None = None,
) -> Outcome:
    """Journal the outcome of `action` (failed when `error` is given, or `failed` when it ran but
    did not reach its goal) and return it."""
    status = OutcomeStatus.FAILED if error is not None or failed else OutcomeStatus.SUCCEEDED
    text = f"{action.reason}; failed: {error}" if error is not None else (reason or action.reason)
    outcome = Outcome(
        signal_id, resource or action.resource, status, text, ctx.clock.now(), action.kind,
        dict(before or {}), dict(after or {}), None if error is not None else health,
    )  # fmt: skip
    # applied, or applied but its read-back disagrees (a failed verification); an error: neither
    announce(ctx, [action_applied(outcome), None if error else verification_failed(outcome)])
    ctx.journal.record_outcome(outcome)
    log.info("%s %s: %s", action.kind.value, outcome.resource, status.value)
    return outcome


def record_pending(
    ctx: Context,
    action: Action,
    signal_id: str,
    *,
    credential_set: str | None,
    assignment: ExpectedAssignment | None = None,
    reason: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    health: str | None = None,
) -> Outcome:
    """Journal `action` as applied but pending verification (the health of `credential_set`
    does not confirm it yet, or the role `assignment` is still propagating), and open its
    verification (shared/domain/verification.py)."""
    now = ctx.clock.now()
    pending = PendingVerification.start(
        signal_id, action.kind, action.resource, credential_set, action.reason, at=now,
        assignment=assignment,
    )  # fmt: skip
    ctx.journal.schedule_verification(pending)
    text = (reason or action.reason) + f"; pending verification until {pending.deadline:%H:%M:%S}Z"
    outcome = Outcome(
        signal_id, action.resource, OutcomeStatus.PENDING_VERIFICATION, text, now, action.kind,
        dict(before or {}), dict(after or {}), health,
    )  # fmt: skip
    announce(ctx, [action_applied(outcome)])  # the verdict announces nothing more unless it fails
    ctx.journal.record_outcome(outcome)
    log.info("%s %s: %s", action.kind.value, outcome.resource, outcome.status.value)
    return outcome


def record_verdict(
    ctx: Context, pending: PendingVerification, *, verified: bool, reason: str, health: str | None
) -> Outcome:
    """Conclude a pending verification: the action's outcome, succeeded (verified) or failed."""
    status = OutcomeStatus.SUCCEEDED if verified else OutcomeStatus.FAILED
    outcome = Outcome(
        pending.signal_id, pending.resource, status, f"{pending.reason}; {reason}",
        ctx.clock.now(), pending.action, health=health,
    )  # fmt: skip
    announce(ctx, [verification_failed(outcome)])
    ctx.journal.record_outcome(outcome)
    ctx.journal.end_verification(pending.key)
    log.info("%s %s: %s (%s)", pending.action.value, pending.resource, status.value, reason)
    return outcome


def record_recheck(ctx: Context, pending: PendingVerification) -> PendingVerification:
    """Move a pending verification on to its next check (after an unsuccessful one now)."""
    later = pending.rescheduled(ctx.clock.now())
    ctx.journal.schedule_verification(later)
    return later


def record_signal(
    ctx: Context, signal_id: str, resource: str, status: OutcomeStatus, reason: str
) -> Outcome:
    """Journal the one outcome that closes a signal which applied no action."""
    outcome = Outcome(signal_id, resource, status, reason, ctx.clock.now())
    ctx.journal.record_outcome(outcome)
    return outcome


def record_findings(ctx: Context, findings: Sequence[Finding], *, signal_id: str) -> None:
    """Write findings to the journal."""
    now = ctx.clock.now()
    announce(ctx, [finding_raised(f, origin=signal_id, at=now) for f in findings])
    for finding in findings:
        ctx.journal.record_finding(finding, signal_id=signal_id, at=now)


def record_terminal(
    ctx: Context, signal_id: str, resource: str, outcomes: Sequence[Outcome], *, nothing: str
) -> ReactionStatus:
    """Record the one outcome that closes a signal after its actions (`nothing` says why there
    were none); returns the reaction status it stands for. A change still pending verification
    leaves the signal pending too (failed wins): this stays the signal's one terminal outcome,
    and the verdicts that follow are the actions' own outcomes (`record_verdict`)."""
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    pending = [o for o in outcomes if o.status is OutcomeStatus.PENDING_VERIFICATION]
    if not outcomes:
        record_signal(ctx, signal_id, resource, OutcomeStatus.NO_CHANGE, nothing)
        return ReactionStatus.NO_CHANGE
    if failed:
        reason = f"{len(failed)} of {len(outcomes)} changes failed"
        record_signal(ctx, signal_id, resource, OutcomeStatus.FAILED, reason)
    elif pending:
        reason = f"{len(outcomes)} change(s) applied, {len(pending)} pending verification"
        record_signal(ctx, signal_id, resource, OutcomeStatus.PENDING_VERIFICATION, reason)
    else:
        reason = f"{len(outcomes)} change(s) applied"
        record_signal(ctx, signal_id, resource, OutcomeStatus.SUCCEEDED, reason)
    return ReactionStatus.APPLIED


def record_announcement(ctx: Context, secret: SecretRef, *, at: datetime | None) -> None:
    """Remember the version a SecretNewVersionCreated event named, at the event's time (the
    clock's when the event carries none): the rotation planner orders versions created in the
    same second by it."""
    if secret.version is not None:
        ctx.journal.record_announcement(secret, at=at or ctx.clock.now())
