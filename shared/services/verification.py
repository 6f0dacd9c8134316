"""Work through the changes pending verification: re-read their credential sets, conclude each.

A change whose read-back was not Healthy is journaled pending verification with a record of when
to look again (`shared/domain/verification.py`; the journal keeps the records, so a re-check
survives the worker: nothing sleeps in memory). `recheck_due` is run by a short-interval timer
(`verification_timer`, every minute) and before every audit; each run reads every credential set
with a check due once, concludes what it can (Healthy: verified; window closed: failed), moves
the rest on. A check is claimed in the journal first, so two runs at once (the timer and an audit)
never conclude one change twice. A verdict is the action's outcome; the signal keeps its one
terminal outcome (which said "pending verification"), so every event still has exactly one.

`verify_by_read_backs` concludes grants at once when their credential set was written in the
same apply and read back Healthy (the common case when RBAC is quick).

A puller's grant has no credential set: each check reads its role assignment back (the
principal's assignments at the registry) and judges that (`judge_assignment`), with the same
claims, schedule and records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from shared.domain.actions import SecretReadGrant
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.domain.plans import Action, ActionKind, Outcome, OutcomeStatus
from shared.domain.verification import (
    ExpectedAssignment,
    PendingVerification,
    Verdict,
    judge,
    judge_assignment,
)
from shared.errors import NotFoundError, TransientError
from shared.ports import ClaimStatus
from shared.services.context import Context, fan_out
from shared.services.records import record_recheck, record_verdict

__all__ = ["recheck_due", "verify_by_read_backs"]

log = logging.getLogger(__name__)
_CHECK_CLAIM_TTL = timedelta(minutes=5)
_WRITES = (ActionKind.UPDATE_CREDENTIAL_SET, ActionKind.REFRESH_CREDENTIAL_SET)


def verify_by_read_backs(
    ctx: Context, grants: Sequence[Action], granted: Sequence[Outcome], written: Sequence[Outcome]
) -> list[Outcome]:
    """The grants' outcomes, with those pending on a credential set that `written` (this apply's
    credential-set writes) read back Healthy concluded as verified now."""
    healthy = {
        o.resource.lower()
        for o in written
        if o.action in _WRITES and o.status is OutcomeStatus.SUCCEEDED and o.health == "Healthy"
    }
    settled: list[Outcome] = []
    for action, outcome in zip(grants, granted, strict=True):
        grant = action.changes
        if (
            outcome.status is OutcomeStatus.PENDING_VERIFICATION
            and isinstance(grant, SecretReadGrant)
            and grant.credential_set.lower() in healthy
        ):
            pending = PendingVerification.start(
                outcome.signal_id, action.kind, action.resource, grant.credential_set,
                action.reason, at=outcome.at,
            )  # fmt: skip
            reason = f"verified: {grant.credential_set} read back Healthy after its refresh"
            settled.append(
                record_verdict(ctx, pending, verified=True, reason=reason, health="Healthy")
            )
            continue
        settled.append(outcome)
    return settled


def recheck_due(ctx: Context) -> list[Outcome]:
    """Check every pending verification that is due now; the verdicts recorded (succeeded or
    failed). A credential set that cannot be read now (throttled, unavailable) waits for the
    next run."""
    now = ctx.clock.now()
    due = ctx.journal.pending_verifications(due_at=now)
    if not due:
        return []
    groups: dict[str, list[PendingVerification]] = {}
    for pending in due:
        groups.setdefault(_read_key(pending), []).append(pending)
    return [o for found in fan_out(lambda g: _check(ctx, g), list(groups.values())) for o in found]


def _read_key(pending: PendingVerification) -> str:
    """What one read answers: a credential set, or one principal's assignments at a scope."""
    expected = pending.assignment
    if expected is None:
        return f"set|{(pending.credential_set or '').lower()}"
    return f"assignments|{expected.scope.lower()}|{expected.principal_id}"


def _read(ctx: Context, credential_set: str) -> CredentialSet | None:
    try:
        return ctx.registry.get_credential_set(ResourceId.parse(credential_set))
    except NotFoundError:
        return None


Conclusion = Callable[[PendingVerification, datetime], tuple[Verdict, str, str | None]]
"""A check's verdict on one pending verification, its reason, and the health to record."""


def _check(ctx: Context, group: list[PendingVerification]) -> list[Outcome]:
    try:
        conclude = _assignment_conclusion(ctx, group[0]) if group[0].assignment else (
            _health_conclusion(ctx, group[0])
        )  # fmt: skip
    except TransientError as error:
        log.warning("cannot re-check %s now: %s", group[0].key, error)
        return []
    verdicts: list[Outcome] = []
    now = ctx.clock.now()
    for pending in group:
        claim_key = f"verification:{pending.key}#{pending.checks}"
        claim = ctx.journal.claim(claim_key, "recheck", now=now, ttl=_CHECK_CLAIM_TTL)
        if claim.status is not ClaimStatus.NEW:
            continue  # another run is checking (or has checked) this one
        try:
            verdict, reason, health = conclude(pending, now)
            if verdict is Verdict.RECHECK:
                record_recheck(ctx, pending)
            else:
                verdicts.append(record_verdict(
                    ctx, pending, verified=verdict is Verdict.VERIFIED, reason=reason,
                    health=health,
                ))  # fmt: skip
        except Exception:
            ctx.journal.release(claim)  # the next run checks it again (its records are idempotent)
            raise
        ctx.journal.complete(claim, now=now, ttl=_CHECK_CLAIM_TTL)
    return verdicts


def _health_conclusion(ctx: Context, first: PendingVerification) -> Conclusion:
    current = _read(ctx, first.credential_set or "")
    health = current.health if current is not None else None
    status = health.status.value if health is not None else None

    def conclude(pending: PendingVerification, now: datetime) -> tuple[Verdict, str, str | None]:
        verdict = judge(pending, status, now)
        return verdict, _verdict_reason(pending, verdict, current), status

    return conclude


def _assignment_conclusion(ctx: Context, first: PendingVerification) -> Conclusion:
    expected = first.assignment
    assert expected is not None
    try:
        read = ctx.access.role_assignments(ResourceId.parse(expected.scope), expected.principal_id)
    except NotFoundError:
        read = []  # the registry is gone, and its assignments with it
    found = {a.id.lower(): a for a in read}

    def conclude(pending: PendingVerification, now: datetime) -> tuple[Verdict, str, str | None]:
        wanted = pending.assignment
        assert wanted is not None
        disagreement = wanted.disagreement(found.get(wanted.id))
        verdict = judge_assignment(pending, disagreement, now)
        return verdict, _assignment_reason(pending, wanted, disagreement), None

    return conclude


def _assignment_reason(
    pending: PendingVerification, expected: ExpectedAssignment, disagreement: str | None
) -> str:
    if disagreement is not None:
        return f"not verified: {disagreement}"
    minutes = int((pending.deadline - pending.applied_at).total_seconds() // 60)
    return (
        f"verified: role assignment {expected.id} reads back as granted, {minutes} minutes on "
        f"(check {pending.checks + 1})"
    )


def _verdict_reason(
    pending: PendingVerification, verdict: Verdict, found: CredentialSet | None
) -> str:
    if verdict is Verdict.VERIFIED:
        return f"verified: {pending.credential_set} reads Healthy (check {pending.checks + 1})"
    if found is None:
        return f"not verified: {pending.credential_set} no longer exists"
    health = found.health
    detail = ": ".join(p for p in (health.error_code, health.error_message) if p)
    minutes = int((pending.deadline - pending.applied_at).total_seconds() // 60)
    return (
        f"not verified within {minutes} minutes: {pending.credential_set} still reads "
        f"{health.status.value}" + (f" ({detail})" if detail else "")
    )
