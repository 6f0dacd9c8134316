"""Throttle-aware SDK calls: ARM requests paced per subscription, 429s waited out within budget.

Every client `AzureClients` builds gets a `PacingPolicy` (`pacing_policy.py`) through azure-core's public
`per_retry_policies` option, so it runs on each attempt the SDK's RetryPolicy makes, before
authentication and the write fence (`fencing.py`, which therefore judges the lease after any
wait). It reads only the public `PipelineRequest`/`PipelineResponse` API:

- an ARM request waits until its subscription's bucket for its operation type (reads, writes,
  deletes) is estimated to keep `reserve` tokens after it (`shared/domain/request_budget.py`,
  fed by `x-ms-ratelimit-remaining-subscription-*`): the principal's other tools keep that
  much of the budget. The reserve applies to reads (`ARM_READ_RESERVE`);
- a 429 from ARM or Key Vault holds that bucket for `Retry-After` (Key Vault's guidance back-off
  when it sends none) and the request is sent again, as often as the budget allows;
- no wait runs past the invocation's deadline (`shared.wait_deadline`), or `CALL_BUDGET` from the
  call's start outside one, and one call waits out at most `MAX_THROTTLED_ANSWERS` 429s: instead
  `ThrottleBudgetError` is raised and nothing more is sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from shared.domain.request_budget import (
    ARM_LIMITS,
    MAX_THROTTLED_ANSWERS,
    BucketLimit,
    BudgetEstimate,
    Knowledge,
    arm_operation,
    keyvault_backoff,
    remaining_header,
    subscription_of,
)
from shared.errors import ThrottleBudgetError

if TYPE_CHECKING:
    from shared.adapters.azure.pacing_policy import PacingPolicy

__all__ = ["DEFAULT_READ_RESERVE", "RealTime", "RequestPacer", "Waiting"]

DEFAULT_READ_RESERVE = 50  # a fifth of ARM's 250-read burst stays for the principal's other tools
_ARM_HOST = "management.azure.com"
_KEYVAULT_SUFFIX = ".vault.azure.net"
_KEYVAULT_LIMIT = BucketLimit(4000, 400.0)  # never paced by (no header): pauses only


class Waiting(Protocol):
    """The time the pacer reads and waits on (the real time; a test's clock)."""

    def now(self) -> datetime: ...

    def wait_until(self, when: datetime) -> None: ...


class RealTime:
    """The real time: waiting is sleeping."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, when: datetime) -> None:
        seconds = (when - self.now()).total_seconds()
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class _Bucket:
    name: str  # for messages: "reads of subscription …", "vault …"
    header: str | None  # the remaining-budget header, None for Key Vault
    estimate: BudgetEstimate
    keyvault: bool = False


class RequestPacer:
    """The buckets of one worker, shared by every client (and pipeline) it builds."""

    def __init__(self, *, waiting: Waiting | None = None, read_reserve: int = DEFAULT_READ_RESERVE):
        self._time = waiting or RealTime()
        self._reserves = {"reads": read_reserve, "writes": 0, "deletes": 0}
        self._changed = threading.Condition()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self.throttled_answers = 0  # 429s waited out
        self.waited_seconds = 0.0  # on this pacer's time, over every bucket

    def policy(self) -> PacingPolicy:
        """A new policy for one pipeline (a policy instance belongs to one pipeline); azure-core
        is imported here, on first use."""
        from shared.adapters.azure.pacing_policy import PacingPolicy

        return PacingPolicy(self)

    def now(self) -> datetime:
        return self._time.now()

    def bucket(self, method: str, url: str) -> _Bucket | None:
        """The bucket a request is metered in, or None (not ARM nor Key Vault)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host == _ARM_HOST:
            operation = arm_operation(method)
            subscription = subscription_of(parts.path)
            key: tuple[str, ...] = ("arm", subscription or "", operation)
            name = f"{operation} of subscription {subscription}" if subscription else operation
            header = remaining_header(operation, tenant=subscription is None)
            limit, reserve, keyvault = ARM_LIMITS[operation], self._reserves[operation], False
        elif host.endswith(_KEYVAULT_SUFFIX):
            key, name, header = ("vault", host), f"vault {host}", None
            limit, reserve, keyvault = _KEYVAULT_LIMIT, 0, True
        else:
            return None
        with self._changed:
            found = self._buckets.get(key)
            if found is None:
                estimate = BudgetEstimate(limit, reserve)
                if keyvault:
                    estimate.knowledge = Knowledge.BLIND
                found = self._buckets[key] = _Bucket(name, header, estimate, keyvault)
            return found

    def acquire(self, bucket: _Bucket, deadline: datetime) -> None:
        """Wait until the bucket lets one more request go out, then count it as sent."""
        with self._changed:
            while True:
                now = self._time.now()
                wait = bucket.estimate.wait_before_send(now)
                if wait == 0:
                    bucket.estimate.sent(now)
                    return
                if wait is None:  # the first answer is on its way: it tells what is left
                    self._changed.wait(timeout=1.0)
                    continue
                until = now + timedelta(seconds=wait)
                if until > deadline:
                    raise ThrottleBudgetError(
                        f"ARM's budget for {bucket.name} would need {wait:.1f} s more "
                        f"than the time budget leaves",
                        retry_after=wait,
                    )
                self._changed.release()
                try:
                    self._time.wait_until(until)
                finally:
                    self._changed.acquire()
                self.waited_seconds += wait
                # the wait is over, even on a clock that did not move (a test's, pinned)
                paused = bucket.estimate.paused_until
                if paused is not None and paused <= until:
                    bucket.estimate.paused_until = None

    def answered(self, bucket: _Bucket, headers: Any | None) -> None:
        """An attempt came back (headers None: it failed without an answer)."""
        with self._changed:
            if headers is None:
                bucket.estimate.failed(self._time.now())
            else:
                remaining = _int_header(headers, bucket.header)
                bucket.estimate.answered(self._time.now(), remaining)
            self._changed.notify_all()

    def throttled(self, bucket: _Bucket, headers: Any, attempt: int, deadline: datetime) -> None:
        """A 429: hold the bucket for its Retry-After; ThrottleBudgetError past the deadline."""
        seconds = _retry_after(headers, self._time.now())
        if seconds is None:
            seconds = keyvault_backoff(attempt) if bucket.keyvault else 1.0
        with self._changed:
            self.throttled_answers += 1
            until = bucket.estimate.throttled(self._time.now(), seconds)
        if attempt + 1 >= MAX_THROTTLED_ANSWERS:
            raise ThrottleBudgetError(
                f"{bucket.name} answered 429 {attempt + 1} times to one call", retry_after=seconds
            )
        if until > deadline:
            raise ThrottleBudgetError(
                f"{bucket.name} is throttled for {seconds:.0f} s (Retry-After), past the time "
                f"budget",
                retry_after=seconds,
            )


def _int_header(headers: Any, name: str | None) -> int | None:
    if name is None:
        return None
    try:
        value = headers.get(name)
        return int(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _retry_after(headers: Any, now: datetime) -> float | None:
    """Seconds from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After` (seconds or a date)."""
    try:
        for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
            value = headers.get(name)
            if value is not None:
                return max(0.0, float(value) * scale)
        value = headers.get("Retry-After")
    except (AttributeError, TypeError, ValueError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())
