"""Fault injection for ARM and Key Vault traffic: scripted (next N matching) or by seeded rate."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Any

FAULT_KINDS = ("403", "429", "500", "503", "timeout", "latency")


@dataclass
class FaultRule:
    """One fault rule. `remaining` None means unlimited (rate rules)."""

    kind: str
    pattern: str | None = None
    method: str | None = None
    host: str | None = None
    rate: float = 1.0
    remaining: int | None = None
    retry_after: int = 0
    latency_ms: int = 0

    def matches(self, method: str, host: str, path: str) -> bool:
        """Whether a request is in this rule's reach."""
        if self.method and self.method.upper() != method.upper():
            return False
        if self.host and self.host.lower() != host.lower():
            return False
        if not self.pattern:
            return True
        # Also try with a trailing "/" so `/cacheRules/` matches the collection path too.
        return any(re.search(self.pattern, p, re.IGNORECASE) for p in (path, path + "/"))

    def as_json(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dict(vars(self))


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: delay it, and/or fail it with `kind`."""

    latency_ms: int = 0
    kind: str | None = None
    retry_after: int = 0


class Faults:
    """The set of active fault rules. Scripted rules are consumed before rate rules apply."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def seed(self, seed: int) -> None:
        """Reseed the random source used by rate rules."""
        with self._lock:
            self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule (validated)."""
        if rule.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._rules.append(rule)
        return rule

    def script(
        self,
        pattern: str | None,
        kind: str,
        count: int = 1,
        *,
        retry_after: int = 0,
        latency_ms: int = 0,
        method: str | None = None,
        host: str | None = None,
    ) -> FaultRule:
        """Fail (or delay) the next `count` requests whose path matches the regex `pattern`."""
        return self.add(FaultRule(kind, pattern, method, host, 1.0, count, retry_after, latency_ms))

    def rate(
        self,
        kind: str,
        rate: float,
        *,
        pattern: str | None = None,
        retry_after: int = 0,
        latency_ms: int = 0,
        method: str | None = None,
        host: str | None = None,
    ) -> FaultRule:
        """Fail (or delay) a seeded-random fraction `rate` of matching requests."""
        return self.add(FaultRule(kind, pattern, method, host, rate, None, retry_after, latency_ms))

    def latency(self, ms: int, *, pattern: str | None = None, rate: float = 1.0) -> FaultRule:
        """Delay matching requests by `ms` milliseconds (real time, outside the state lock)."""
        return self.add(FaultRule("latency", pattern, rate=rate, latency_ms=ms))

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """A snapshot of the active rules."""
        with self._lock:
            return list(self._rules)

    def decide(self, method: str, host: str, path: str) -> FaultDecision:
        """Pick the faults for one request; consumes scripted rules."""
        latency = 0
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(method, host, path):
                    continue
                if rule.remaining is None and self._random.random() >= rule.rate:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                if rule.kind == "latency":
                    latency += rule.latency_ms
                    continue
                return FaultDecision(latency + rule.latency_ms, rule.kind, rule.retry_after)
        return FaultDecision(latency)
