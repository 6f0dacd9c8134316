"""Handle a signal at most once per id: the idempotency claim every event reaction goes through.

A redelivery of a handled event is a duplicate (nothing recorded again); one being handled by
another worker raises ConcurrencyError (transient: Event Grid redelivers later); a permanent error
is recorded as the event's one terminal outcome and acknowledged; any other failure releases the
claim so the redelivery starts from scratch. A claim a crashed worker left behind expires after
`IN_PROGRESS_TTL`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from shared.domain.plans import Outcome, OutcomeStatus
from shared.errors import ConcurrencyError, PermanentError
from shared.ports import ClaimStatus
from shared.services.context import Context
from shared.services.results import Reaction, ReactionStatus

__all__ = ["COMPLETED_TTL", "IN_PROGRESS_TTL", "event_id_of", "handle_once", "reject_event"]

log = logging.getLogger(__name__)
IN_PROGRESS_TTL = timedelta(minutes=10)  # longer than the function timeout: a crashed claim expires
COMPLETED_TTL = timedelta(days=2)  # Event Grid retries for at most 24 hours


def event_id_of(event: Any) -> str:
    """The event's id as far as it can be read (for recording a malformed event's rejection)."""
    value = event.get("id") if isinstance(event, Mapping) else None
    return value.strip()[:128] if isinstance(value, str) and value.strip() else "unidentified-event"


def reject_event(ctx: Context, event_id: str, resource: str, reason: str) -> Reaction:
    """Record an event that cannot be handled (malformed, or a reused id) and acknowledge it."""
    log.warning("rejecting event %s: %s", event_id, reason)
    ctx.journal.record_outcome(
        Outcome(event_id, resource, OutcomeStatus.REJECTED, reason, ctx.clock.now())
    )
    return Reaction(ReactionStatus.REJECTED, reason)


def handle_once(
    ctx: Context,
    *,
    key: str,
    payload_hash: str,
    signal_id: str,
    resource: str,
    handle: Callable[[], Reaction],
) -> Reaction:
    """Run `handle` unless the signal `key` was already handled (see the module docstring)."""
    claim = ctx.journal.claim(key, payload_hash, now=ctx.clock.now(), ttl=IN_PROGRESS_TTL)
    if claim.status is ClaimStatus.DUPLICATE:
        return Reaction(ReactionStatus.DUPLICATE, f"event {signal_id} was already handled")
    if claim.status is ClaimStatus.IN_PROGRESS:
        raise ConcurrencyError(f"event {signal_id} is being handled by another worker")
    if claim.status is ClaimStatus.PAYLOAD_MISMATCH:
        reason = "an event with this id but a different payload was already handled"
        return reject_event(ctx, signal_id, resource, reason)
    try:
        reaction = handle()
    except PermanentError as error:
        ctx.journal.record_outcome(
            Outcome(signal_id, resource, OutcomeStatus.FAILED, str(error), ctx.clock.now())
        )
        reaction = Reaction(ReactionStatus.REJECTED, str(error))
    except BaseException:
        ctx.journal.release(key)  # let the redelivery handle it from scratch
        raise
    ctx.journal.complete(key, now=ctx.clock.now(), ttl=COMPLETED_TTL)
    return reaction
