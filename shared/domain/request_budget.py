"""ARM's request budget as a client sees it: documented token buckets, fed by its headers.

ARM meters requests per subscription, per principal and per operation type as token buckets
(reads 250 tokens refilled at 25 per second; writes and deletes 200 at 10; "Understand how Azure
Resource Manager throttles requests") and reports what is left in
`x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`. `BudgetEstimate` is one bucket
as the product estimates it: it starts unknown (one request in flight until the first answer
says), then follows the headers (conservatively: every request still in flight is assumed not
counted yet) and refills at the documented rate in between; a bucket whose answers carry no
header is not paced at all. `wait_before_send` says how long to wait so that sending one more
request leaves at least `reserve` tokens for the principal's other tools. Pure: the time is
passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

__all__ = [
    "ARM_LIMITS",
    "MAX_THROTTLED_ANSWERS",
    "BucketLimit",
    "BudgetEstimate",
    "Knowledge",
    "arm_operation",
    "keyvault_backoff",
    "remaining_header",
    "subscription_of",
]


@dataclass(frozen=True, slots=True)
class BucketLimit:
    capacity: int
    refill_per_second: float


ARM_LIMITS = {
    "reads": BucketLimit(250, 25.0),
    "writes": BucketLimit(200, 10.0),
    "deletes": BucketLimit(200, 10.0),
}
# 429s one call waits out at most, whatever its deadline: a bound even where waiting takes no
# time (a test's pinned clock, a Retry-After of 0)
MAX_THROTTLED_ANSWERS = 30
# Key Vault's throttling guidance: on a 429, wait 1, 2, 4, 8, 16 seconds (when no Retry-After)
_KEYVAULT_BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0)


def arm_operation(method: str) -> str:
    """The operation type ARM meters a request as: reads (GET, HEAD), deletes, or writes (PUT,
    PATCH, POST: a POST action such as listCredentials counts as a write)."""
    upper = method.upper()
    if upper in ("GET", "HEAD"):
        return "reads"
    return "deletes" if upper == "DELETE" else "writes"


def remaining_header(operation: str, *, tenant: bool = False) -> str:
    """The response header that carries a subscription's (or the tenant's) remaining tokens."""
    return f"x-ms-ratelimit-remaining-{'tenant' if tenant else 'subscription'}-{operation}"


def subscription_of(path: str) -> str | None:
    """The subscription id an ARM path is under (lower case), or None (a tenant request)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1].lower()
    return None


def keyvault_backoff(attempt: int) -> float:
    """Seconds to wait before the `attempt`-th resend (0-based) after a 429 without Retry-After."""
    return _KEYVAULT_BACKOFF[min(attempt, len(_KEYVAULT_BACKOFF) - 1)]


class Knowledge(Enum):
    UNKNOWN = "unknown"  # no answer yet: one request in flight
    TRACKED = "tracked"  # the answers carry the remaining-budget header
    BLIND = "blind"  # they do not: nothing to pace by (429s are still waited out)


@dataclass(slots=True)
class BudgetEstimate:
    """One bucket as the client estimates it (mutable: the caller serialises access)."""

    limit: BucketLimit
    reserve: int = 0
    knowledge: Knowledge = Knowledge.UNKNOWN
    tokens: float = 0.0
    stamp: datetime | None = None
    in_flight: int = 0
    paused_until: datetime | None = None  # a 429's Retry-After holds every request until then

    def wait_before_send(self, now: datetime) -> float | None:
        """Seconds to wait before one more request may go out (0: send now; None: wait for the
        answer in flight, which tells how much is left)."""
        if self.paused_until is not None and now < self.paused_until:
            return (self.paused_until - now).total_seconds()
        if self.knowledge is Knowledge.BLIND:
            return 0.0
        if self.knowledge is Knowledge.UNKNOWN:
            return None if self.in_flight else 0.0
        self._refill(now)
        short = self.reserve + 1.0 - self.tokens
        if short <= 0:
            return 0.0
        return short / self.limit.refill_per_second

    def sent(self, now: datetime) -> None:
        """One request went out."""
        self._refill(now)
        self.in_flight += 1
        if self.knowledge is Knowledge.TRACKED:
            self.tokens -= 1.0

    def answered(self, now: datetime, remaining: int | None) -> None:
        """Its answer came back, with the header's value (None: no header)."""
        self.in_flight = max(0, self.in_flight - 1)
        self._refill(now)
        if remaining is None:
            if self.knowledge is Knowledge.UNKNOWN:
                self.knowledge = Knowledge.BLIND
            return
        # requests still in flight may not be counted in `remaining` yet: assume none is
        reported = float(remaining - self.in_flight)
        if self.knowledge is Knowledge.TRACKED:
            self.tokens = min(self.tokens, reported)
        else:
            self.tokens = reported
            self.knowledge = Knowledge.TRACKED

    def failed(self, now: datetime) -> None:
        """It failed without an answer (a timeout, a refused write fence): nothing learnt."""
        self.in_flight = max(0, self.in_flight - 1)
        self._refill(now)

    def throttled(self, now: datetime, retry_after: float) -> datetime:
        """A 429: hold every request of the bucket for `retry_after` seconds; returns until when."""
        until = now + timedelta(seconds=max(retry_after, 0.0))
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until
        if self.knowledge is Knowledge.TRACKED:
            self.tokens = min(self.tokens, 0.0)
        return self.paused_until

    def _refill(self, now: datetime) -> None:
        if self.stamp is not None and now > self.stamp:
            gained = (now - self.stamp).total_seconds() * self.limit.refill_per_second
            self.tokens = min(float(self.limit.capacity), self.tokens + gained)
        if self.stamp is None or now > self.stamp:
            self.stamp = now
