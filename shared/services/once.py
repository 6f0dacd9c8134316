"""Handle a signal at most once per key: the one claim cycle every reaction goes through.

A claim is a journal record keyed by the signal (an event id, or a credential set and a window
when pull failures are coalesced) with a hash of its payload. A redelivery of a handled signal is
a duplicate; one being handled by another worker raises ConcurrencyError (transient: Event Grid
redelivers later) unless the caller coalesces it into the work in progress; the same key with a
different payload is rejected; a permanent error is recorded as the signal's one terminal outcome
and acknowledged; any other failure (recording that outcome included) releases the claim so the
redelivery starts from scratch, and so does a failure to mark the claim completed (the outcomes
are idempotent: the redelivery records none twice). Completing and releasing act only on this
attempt's own claim (`Claim.token`), and the journal resolves a claim write whose answer was lost
by reading it back, so a lost answer never leaves the signal looking "handled by another worker".
A claim a crashed worker left behind, or one whose release failed too, expires after
`IN_PROGRESS_TTL`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from shared.domain.documents import escaped
from shared.domain.plans import OutcomeStatus
from shared.domain.time_budgets import SIGNAL_CLAIM_TTL
from shared.errors import ConcurrencyError, PermanentError
from shared.ports import Claim, ClaimStatus
from shared.services.context import Context
from shared.services.records import record_signal
from shared.services.results import Reaction, ReactionStatus

__all__ = ["COMPLETED_TTL", "IN_PROGRESS_TTL", "event_id_of", "handle_once", "reject_event"]

log = logging.getLogger(__name__)
IN_PROGRESS_TTL = SIGNAL_CLAIM_TTL  # longer than the function timeout: a crashed claim expires
COMPLETED_TTL = timedelta(days=2)  # Event Grid retries for at most 24 hours


def event_id_of(event: Any) -> str:
    """The event's id as far as it can be read (for recording a malformed event's rejection),
    lone surrogates escaped so the record can be written."""
    value = event.get("id") if isinstance(event, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        return "unidentified-event"
    return escaped(value.strip())[:128]


def reject_event(ctx: Context, event_id: str, resource: str, reason: str) -> Reaction:
    """Record an event that cannot be handled (malformed, or a reused id) and acknowledge it."""
    log.warning("rejecting event %s: %s", event_id, reason)
    record_signal(ctx, event_id, resource, OutcomeStatus.REJECTED, reason)
    return Reaction(ReactionStatus.REJECTED, reason)


def handle_once(
    ctx: Context,
    *,
    key: str,
    payload_hash: str,
    signal_id: str,
    resource: str,
    handle: Callable[[], Reaction],
    keep: timedelta = COMPLETED_TTL,
    duplicate: Callable[[], Reaction] | None = None,
    busy: str | None = None,
    coalesce: Callable[[], Reaction] | None = None,
    record_permanent: bool = True,
) -> Reaction:
    """Run `handle` unless the signal `key` was already handled (see the module docstring).

    A completed claim is kept for `keep`; `duplicate` answers a repeat (default: a DUPLICATE
    reaction, recording nothing), `busy` is the message of the ConcurrencyError while another
    worker holds the claim, unless `coalesce` answers instead (a signal that joins the work in
    progress, `shared/services/pending.py`). With `record_permanent=False` a permanent error
    releases the claim and propagates to the caller (an outer claim, or an HTTP answer)."""
    claim = ctx.journal.claim(key, payload_hash, now=ctx.clock.now(), ttl=IN_PROGRESS_TTL)
    if claim.status is ClaimStatus.DUPLICATE:
        if duplicate is not None:
            return duplicate()
        return Reaction(ReactionStatus.DUPLICATE, f"event {signal_id} was already handled")
    if claim.status is ClaimStatus.IN_PROGRESS:
        if coalesce is not None:
            return coalesce()
        raise ConcurrencyError(busy or f"event {signal_id} is being handled by another worker")
    if claim.status is ClaimStatus.PAYLOAD_MISMATCH:
        reason = "an event with this id but a different payload was already handled"
        return reject_event(ctx, signal_id, resource, reason)
    try:
        try:
            reaction = handle()
        except PermanentError as error:
            if not record_permanent:
                raise
            record_signal(ctx, signal_id, resource, OutcomeStatus.FAILED, str(error))
            reaction = Reaction(ReactionStatus.REJECTED, str(error))
    except BaseException:
        _release(ctx, claim, signal_id)  # let the redelivery handle it from scratch
        raise
    try:
        ctx.journal.complete(claim, now=ctx.clock.now(), ttl=keep)
    except Exception:
        # The work is done and its outcomes are recorded, once per identity: handling the signal
        # again is safe (it re-plans from current state, and a repeated outcome keeps the first).
        # So release the claim instead of leaving it in progress until IN_PROGRESS_TTL (a claim
        # whose completion landed unanswered stays completed: the release is ETag-conditional).
        log.warning("could not complete the claim of %s; releasing it", signal_id)
        _release(ctx, claim, signal_id)
        raise
    return reaction


def _release(ctx: Context, claim: Claim, signal_id: str) -> None:
    """Release this attempt's claim; when even that fails, the claim expires after
    IN_PROGRESS_TTL and the error that made us release it is the one raised."""
    try:
        ctx.journal.release(claim)
    except Exception as error:
        log.warning("could not release the claim of %s (%s); it expires", signal_id, error)
