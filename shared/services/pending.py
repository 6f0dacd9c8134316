"""Signals that arrive while another worker handles the same claim: kept, then re-checked.

Some signals are coalesced: a burst of pull failures for one credential set shares one claim per
window (`shared/services/pull_failures.py`). A signal that finds that claim held by another worker
does not fail (Event Grid would count a failed execution and redeliver; an action group's webhook
may not retry a 409 at all): `join_in_flight` keeps it as the claim's *pending signal* in the
journal (the newest replaces an older one: one re-check answers them all), records its own
closing outcome (it joined the work in progress) and answers success.

The holder, once its work is done, re-checks (`run_with_rechecks`): a pending signal kept after
its work began is handled again, up to `MAX_RECHECKS` times, and dropped on the version it read,
so one that arrived meanwhile survives to be handled next. Nothing is lost when the holder dies:
the row outlives it, and the next worker to take the claim (once it expired or was released)
re-checks the same way; `sweep` (the verification timer, every minute, and every audit) takes
each pending signal whose claim nobody holds, including one that arrived just as the holder
finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.domain.plans import OutcomeStatus
from shared.ports import PendingSignal
from shared.services.context import Context
from shared.services.records import record_signal
from shared.services.results import Reaction, ReactionStatus

__all__ = ["MAX_RECHECKS", "join_in_flight", "recheck_id", "run_with_rechecks"]

log = logging.getLogger(__name__)
MAX_RECHECKS = 3  # re-checks one holder runs; a burst beyond that is left to the sweep


def recheck_id(pending: PendingSignal) -> str:
    """The signal id a re-check of `pending` records its outcomes under."""
    return f"{pending.signal_id}/recheck"


def join_in_flight(
    ctx: Context, key: str, *, signal_id: str, payload: str, resource: str, subject: str
) -> Reaction:
    """Keep the signal as the pending signal of the held claim `key` and close it (the work in
    progress re-checks once done). A failure to keep it raises: the signal is redelivered."""
    ctx.journal.keep_pending(PendingSignal(key, signal_id, payload, ctx.clock.now()))
    reason = f"joined the diagnosis of {subject} in progress; it re-checks once done"
    record_signal(ctx, signal_id, resource, OutcomeStatus.NO_CHANGE, reason)
    return Reaction(ReactionStatus.DUPLICATE, reason)


def run_with_rechecks(
    ctx: Context,
    key: str,
    first: Callable[[PendingSignal | None], Reaction],
    recheck: Callable[[PendingSignal], object],
) -> Reaction:
    """Run the claim holder's work, `first(waiting)` (`waiting`: the pending signal kept before
    it began, which the work answers), then re-check every pending signal kept while it ran."""
    journal = ctx.journal
    answered = journal.pending_signal(key)  # kept before the work began: the work answers it
    reaction = first(answered)
    rechecks = 0
    while True:
        current = journal.pending_signal(key)
        if current is None:
            return reaction
        if answered is not None and current.version == answered.version:
            if journal.drop_pending(current):
                return reaction
            continue  # replaced since it was read: the newer one is read next
        if rechecks >= MAX_RECHECKS:
            log.info("leaving the pending signal of %s to the sweep", key)
            return reaction
        rechecks += 1
        answered = current
        log.info("re-checking %s for signal %s", key, current.signal_id)
        recheck(current)
