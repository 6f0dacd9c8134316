"""Azure's request limits: ARM's token buckets and Key Vault's per-vault windows.

ARM meters requests per subscription (tenant, for requests without one), per principal and per
operation type (reads: GET/HEAD, writes: PUT/PATCH/POST, deletes: DELETE) as token buckets that
refill continuously on the sandbox clock; every answer carries the bucket's remaining tokens in
`x-ms-ratelimit-remaining-{subscription|tenant}-{reads|writes|deletes}`, and a request that finds
its bucket empty is not processed: 429 `SubscriptionRequestsThrottled` with `Retry-After` (the
whole seconds until a token is back). Key Vault counts the transactions of each vault in the last
10 seconds (creating a secret also counts against a smaller limit); over the limit it answers 429
`Throttled`, with `Retry-After` only when option `kv_throttle_retry_after` says so. A throttled
request costs nothing in either (docs/fidelity.md has the sources and what is unknown).

`Throttle.lowest()` reports the lowest remaining count each bucket reached, so a test can assert
that a client kept a reserve.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.env import SandboxOptions
from sandbox.errors import ServiceError
from sandbox.wire import Request

__all__ = ["ARM_KINDS", "Admission", "Throttle", "arm_kind", "bucket_scope"]

ARM_KINDS = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}  # anything else: writes
KV_WINDOW_SECONDS = 10.0
_ARM_CODE = "SubscriptionRequestsThrottled"
_KV_CODE = "Throttled"


def arm_kind(method: str) -> str:
    """The ARM operation type a method is metered as."""
    return ARM_KINDS.get(method.upper(), "writes")


def bucket_scope(path: str) -> tuple[str, str]:
    """("subscription", id) for a subscription's request, ("tenant", "") otherwise."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return "subscription", parts[1].lower()
    return "tenant", ""


def principal_of(request: Request) -> str:
    """Who is metered: the bearer token stands for its principal (the sandbox issues fakes)."""
    authorization = request.headers.get("authorization", "")
    return authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""


@dataclass
class _Bucket:
    capacity: float
    refill: float  # tokens per second
    tokens: float
    stamp: datetime
    lowest: float = field(init=False)

    def __post_init__(self) -> None:
        self.lowest = self.tokens

    def top_up(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self.stamp).total_seconds())
        self.tokens = min(self.capacity, self.tokens + elapsed * self.refill)
        self.stamp = max(now, self.stamp)

    def take(self, count: float = 1.0) -> None:
        self.tokens -= count
        self.lowest = min(self.lowest, self.tokens)

    def wait_for_one(self) -> int:
        """Whole seconds until one token is back (at least 1)."""
        if self.refill <= 0:
            return 3600
        return max(1, math.ceil((1.0 - self.tokens) / self.refill))


@dataclass(frozen=True)
class Admission:
    """The throttle's verdict on one request: the headers to add, or the 429 to answer."""

    headers: dict[str, str]
    refusal: ServiceError | None = None
    remaining: int | None = None


class Throttle:
    """Every bucket and window, created on first use. The caller holds the sandbox lock."""

    def __init__(self, options: Callable[[], SandboxOptions]) -> None:
        self._options_now = options
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str, str], _Bucket] = {}
        self._windows: dict[tuple[str, str], deque[datetime]] = {}

    def clear(self) -> None:
        """Every bucket full again, every window empty."""
        with self._lock:
            self._buckets.clear()
            self._windows.clear()

    # -- ARM -------------------------------------------------------------------------------------
    def admit_arm(self, request: Request, now: datetime) -> Admission:
        """Take a token for an ARM request, or refuse it (nothing is taken)."""
        kind = arm_kind(request.method)
        level, scope_id = bucket_scope(request.path)
        header = f"x-ms-ratelimit-remaining-{level}-{kind}"
        with self._lock:
            bucket = self._bucket(level, scope_id, principal_of(request), kind, now)
            bucket.top_up(now)
            if bucket.tokens < 1.0:
                wait = bucket.wait_for_one()
                refusal = ServiceError(
                    429,
                    _ARM_CODE,
                    f"Number of '{kind[:-1]}' requests for {level} '{scope_id}' exceeded. "
                    f"Please try again after '{wait}' seconds.",
                    headers={"Retry-After": str(wait), header: "0"},
                )
                return Admission({}, refusal, 0)
            bucket.take()
            remaining = int(bucket.tokens)
        return Admission({header: str(remaining)}, None, remaining)

    def spend(
        self,
        subscription: str,
        count: int,
        *,
        kind: str = "reads",
        principal: str,
        now: datetime,
    ) -> int:
        """Take `count` tokens as another tool of the same principal would (never below 0);
        returns the tokens left."""
        with self._lock:
            bucket = self._bucket("subscription", subscription.lower(), principal, kind, now)
            bucket.top_up(now)
            bucket.take(min(float(count), max(0.0, bucket.tokens)))
            return int(bucket.tokens)

    def lowest(self, subscription: str, *, kind: str = "reads") -> int | None:
        """The fewest tokens the subscription's bucket of `kind` held after any request (over
        every principal), or None when it was never used."""
        with self._lock:
            found = [
                b.lowest
                for (level, scope_id, _, k), b in self._buckets.items()
                if level == "subscription" and scope_id == subscription.lower() and k == kind
            ]
        return math.floor(min(found)) if found else None

    def _bucket(
        self, level: str, scope_id: str, principal: str, kind: str, now: datetime
    ) -> _Bucket:
        key = (level, scope_id, principal, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            capacity, refill = self._limits(kind)
            bucket = self._buckets[key] = _Bucket(capacity, refill, capacity, now)
        return bucket

    def _limits(self, kind: str) -> tuple[float, float]:
        o = self._options_now()
        if kind == "reads":
            return float(o.arm_read_bucket), float(o.arm_read_refill)
        if kind == "deletes":
            return float(o.arm_delete_bucket), float(o.arm_delete_refill)
        return float(o.arm_write_bucket), float(o.arm_write_refill)

    # -- Key Vault -------------------------------------------------------------------------------
    def admit_keyvault(self, request: Request, now: datetime) -> Admission:
        """Count a Key Vault transaction in its vault's 10-second window, or refuse it."""
        vault = request.host.lower()
        options = self._options_now()
        limits = [("all", options.kv_transactions_per_10s)]
        if _creates_secret(request):
            limits.append(("create", options.kv_create_secrets_per_10s))
        with self._lock:
            windows = [(self._window(vault, name, now), limit) for name, limit in limits]
            for window, limit in windows:
                if len(window) >= limit:
                    return Admission({}, self._kv_refusal(window, now))
            for window, _ in windows:
                window.append(now)
        return Admission({})

    def _window(self, vault: str, name: str, now: datetime) -> deque[datetime]:
        window = self._windows.setdefault((vault, name), deque())
        while window and (now - window[0]).total_seconds() >= KV_WINDOW_SECONDS:
            window.popleft()
        return window

    def _kv_refusal(self, window: deque[datetime], now: datetime) -> ServiceError:
        headers: dict[str, str] = {}
        retry_after = self._options_now().kv_throttle_retry_after
        if retry_after is not None:
            left = KV_WINDOW_SECONDS - (now - window[0]).total_seconds()
            headers["Retry-After"] = str(max(retry_after, math.ceil(left)))
        return ServiceError(
            429,
            _KV_CODE,
            "Request was not processed because too many requests were received. "
            "Reason: VaultRequestTypeLimitReached",
            headers=headers,
        )


def _creates_secret(request: Request) -> bool:
    parts = [p for p in request.path.split("/") if p]
    return request.method == "PUT" and len(parts) == 2 and parts[0] == "secrets"
