"""How long anything may take: SDK calls, the credential-set lease, an invocation, a CLI run.

One place for the arithmetic docs/operations.md explains ("Time budgets"): an SDK call, with all
its retries, is bounded by `CALL_BUDGET`; a write is sent only while the writer's lease has more
than `CALL_BUDGET` left (shared/services/leases.py), so a write can never land after its lease
expired; the lease is renewed (ETag-conditional) right before each write. The function timeout and
the CLI's own deadline are both `RUN_TIMEOUT`, shorter than the signal claim's in-progress TTL, so
a claim left by a worker the host stopped expires after the host gave up on it.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "AUDIT_WAIT_BUDGET",
    "BACKOFF_FACTOR",
    "BACKOFF_MAX",
    "CALL_BUDGET",
    "CONNECT_TIMEOUT",
    "LEASE_TTL",
    "READ_TIMEOUT",
    "RETRY_TOTAL",
    "RUN_TIMEOUT",
    "SIGNAL_CLAIM_TTL",
    "backoff_total",
]

CONNECT_TIMEOUT = 5.0  # seconds to open a connection (Azure endpoints answer in milliseconds)
READ_TIMEOUT = 30.0  # seconds between bytes of an answer (ARM answers a PATCH in a few seconds)
RETRY_TOTAL = 3  # retries after the first attempt (azure-core RetryPolicy `retry_total`)
BACKOFF_FACTOR = 0.5  # azure-core's back-off: factor * 2 ** (retry - 1), none before the first
BACKOFF_MAX = 8.0  # seconds, the longest single back-off


def backoff_total(retries: int = RETRY_TOTAL) -> float:
    """The seconds azure-core's exponential back-off sleeps over `retries` retries."""
    return sum(min(BACKOFF_MAX, BACKOFF_FACTOR * 2.0 ** (n - 1)) for n in range(2, retries + 1))


# Every attempt may use its whole connect and read timeout; azure-core's RetryPolicy `timeout`
# (the whole call's bound, set on every client) stops the retries once this much time has gone.
CALL_BUDGET = timedelta(
    seconds=(RETRY_TOTAL + 1) * (CONNECT_TIMEOUT + READ_TIMEOUT) + backoff_total()
)
LEASE_TTL = timedelta(minutes=5)  # more than twice CALL_BUDGET: a renewed lease covers a write
RUN_TIMEOUT = timedelta(minutes=5)  # host.json functionTimeout; the CLI's deadline
SIGNAL_CLAIM_TTL = timedelta(minutes=10)  # a signal's in-progress claim outlives any run
# How long an audit may wait out ARM's throttling from its start: a call still waiting then may
# take its whole CALL_BUDGET, and the audit still records its (partial) report within RUN_TIMEOUT
AUDIT_WAIT_BUDGET = RUN_TIMEOUT - CALL_BUDGET
