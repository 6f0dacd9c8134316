"""Short leases on one resource, held on the journal's idempotency claims.

Two workers can observe the same credential set before either writes; a PATCH carries both secret
identifiers, so the later one would silently put back whatever the earlier one moved (a lost
update, and a downgrade). ACR's credential sets have no ETag to make the PATCH conditional, so
every read-compare-write of a credential set runs under a lease: one writer at a time, and the
writer re-reads the set under the lease before writing. A lease a crashed worker left behind
expires after `LEASE_TTL`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from shared.errors import ConcurrencyError
from shared.ports import ClaimStatus
from shared.services.context import Context

__all__ = ["LEASE_TTL", "lease"]

LEASE_TTL = timedelta(minutes=5)  # a lease covers a read, a PATCH and a read-back, with retries
_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # about 3 s of waiting, then Event Grid redelivers
_HOLDER = "lease"


@contextmanager
def lease(ctx: Context, resource: str) -> Iterator[None]:
    """Hold the lease on `resource` for the block; ConcurrencyError (transient, so the signal is
    redelivered) when another worker keeps holding it."""
    key = f"lease:{resource.lower()}"
    for pause in (*_PAUSES, None):
        claim = ctx.journal.claim(key, _HOLDER, now=ctx.clock.now(), ttl=LEASE_TTL)
        if claim.status is ClaimStatus.NEW:
            break
        if pause is None:
            raise ConcurrencyError(f"{resource} is being changed by another worker; retry later")
        time.sleep(pause)
    try:
        yield
    finally:
        ctx.journal.release(key)
