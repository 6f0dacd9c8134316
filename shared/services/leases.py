"""Short fenced leases on one resource, kept as lease rows in the journal.

Two workers can observe the same credential set before either writes; a PATCH carries both secret
identifiers, so the later one would silently put back whatever the earlier one moved (a lost
update, and a downgrade). ACR's credential sets have no ETag to make the PATCH conditional, so
every read-compare-write of a credential set runs under a lease: one writer at a time, and the
writer re-reads the set under the lease before writing.

The lease is a fenced lock. Each acquisition has its own owner token; renewal and release are
conditional on the ETag this holder last wrote, so a worker whose lease expired and was taken
over can neither extend nor delete the new holder's lease. Before a write the holder renews the
lease unless it still has a whole call's budget left (`HeldLease.cover_write`) and hands the adapter `HeldLease.fence`, which
the SDK pipeline runs right before each attempt is sent: an attempt goes out only while the lease
has more time left than the attempt may take (`ATTEMPT_BUDGET`), so no write can land after the
lease expired, however long the worker stalled before sending. A lease a crashed worker left
behind expires after `LEASE_TTL` (the arithmetic: shared/domain/time_budgets.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from shared.domain.time_budgets import CALL_BUDGET, CONNECT_TIMEOUT, LEASE_TTL, READ_TIMEOUT
from shared.errors import ConcurrencyError
from shared.ports import Lease
from shared.services.context import Context

__all__ = ["ATTEMPT_BUDGET", "LEASE_TTL", "HeldLease", "lease"]

log = logging.getLogger(__name__)
ATTEMPT_BUDGET = timedelta(seconds=CONNECT_TIMEOUT + READ_TIMEOUT)  # one attempt, at most
_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # about 3 s of waiting, then Event Grid redelivers


class HeldLease:
    """The lease this worker holds on one resource, for the length of a `lease` block."""

    def __init__(self, ctx: Context, held: Lease) -> None:
        self._ctx = ctx
        self._held = held

    @property
    def current(self) -> Lease:
        return self._held

    def renew(self) -> None:
        """Extend the lease to a full `LEASE_TTL` from now; ConcurrencyError (transient: the
        signal is retried) when this worker no longer holds it."""
        self._held = self._ctx.journal.renew_lease(
            self._held, now=self._ctx.clock.now(), ttl=LEASE_TTL
        )

    def cover_write(self) -> None:
        """Right before a write: renew unless the lease already has a whole `CALL_BUDGET` left
        (every attempt and retry of one call), which is all a renewal would guarantee (a freshly
        taken lease has it, so the write costs no Table request); the fence still checks every
        attempt."""
        if self._held.remaining(self._ctx.clock.now()) <= CALL_BUDGET:
            self.renew()

    def fence(self) -> None:
        """Right before a write attempt is sent: ConcurrencyError unless the lease is held for
        longer than the attempt may take (then the attempt is not sent)."""
        left = self._held.remaining(self._ctx.clock.now())
        if left <= ATTEMPT_BUDGET:
            log.warning("not sending a write under %s: %s of lease left", self._held.key, left)
            raise ConcurrencyError(
                f"the lease {self._held.key!r} has {max(left.total_seconds(), 0):.0f} s left, "
                f"less than a write may take; not sent, retry later"
            )


@contextmanager
def lease(ctx: Context, resource: str) -> Iterator[HeldLease]:
    """Hold the lease on `resource` for the block; ConcurrencyError (transient, so the signal is
    redelivered) when another worker keeps holding it. Released on the way out, if still ours."""
    key = f"lease:{resource.lower()}"
    owner = uuid.uuid4().hex  # this acquisition's own token
    held = ctx.journal.acquire_lease(key, owner=owner, now=ctx.clock.now(), ttl=LEASE_TTL)
    for pause in _PAUSES:
        if held is not None:
            break
        time.sleep(pause)
        held = ctx.journal.acquire_lease(key, owner=owner, now=ctx.clock.now(), ttl=LEASE_TTL)
    if held is None:
        raise ConcurrencyError(f"{resource} is being changed by another worker; retry later")
    holder = HeldLease(ctx, held)
    try:
        yield holder
    finally:
        ctx.journal.release_lease(holder.current)
