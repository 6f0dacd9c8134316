"""Simulated worker deaths: hand-written wrappers around the real ports (no mocks).

`Worker` is one Functions worker process. `DyingRegistry` kills it right after a credential set
was written (the PATCH reached Azure; the outcome was not recorded). `WorkerJournal` forwards to
the real journal while the worker lives; after a death every call raises `Crash` too, as nothing
runs in a dead process: no `finally` can release a claim or a lease.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shared.domain.history import RecordedFinding
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.domain.plans import ActionKind, Finding, Outcome
from shared.domain.refusals import RuleRefusal
from shared.domain.secrets import SecretRef
from shared.domain.verification import PendingVerification
from shared.history_port import OutcomePage
from shared.ports import Claim, Journal, Lease, PendingSignal, Registry

__all__ = ["Crash", "DyingRegistry", "Worker", "WorkerJournal"]


class Crash(BaseException):
    """The worker was killed (simulated). Not an Exception, so `except Exception` cannot eat it.
    `worker` is the one that died."""

    def __init__(self, message: str, worker: Worker | None = None) -> None:
        super().__init__(message)
        self.worker = worker


class Worker:
    """One worker process: alive until `kill()`."""

    def __init__(self, *, soft: bool = False) -> None:
        self.alive = True
        self.soft = soft  # soft: the exception unwinds normally (cleanup runs), like an abort
        self.deaths = 0

    def kill(self, where: str) -> None:
        self.alive = self.soft
        self.deaths += 1
        raise Crash(f"worker killed {where}", self)

    def check(self) -> None:
        if not self.alive:
            raise Crash("the worker is dead", self)

    def respawn(self) -> None:
        """The host started a new instance in its place (same wiring, nothing in memory)."""
        self.alive = True


class DyingRegistry:
    """The real registry; the worker dies right after the first `update_credential_set`."""

    def __init__(self, inner: Registry, worker: Worker, *, after_writes: int = 1) -> None:
        self._inner = inner
        self._worker = worker
        self._left = after_writes
        self.writes = 0

    def update_credential_set(
        self,
        credential_set: ResourceId,
        *,
        username: SecretRef,
        password: SecretRef,
        fence: Callable[[], None] | None = None,
    ) -> CredentialSet:
        self._worker.check()
        result = self._inner.update_credential_set(
            credential_set, username=username, password=password, fence=fence
        )
        self.writes += 1
        self._left -= 1
        if self._left == 0:
            self._worker.kill(f"after writing {credential_set.name}")
        return result

    def __getattr__(self, name: str) -> Any:
        self._worker.check()
        return getattr(self._inner, name)


class WorkerJournal:
    """The real journal, reachable only while the worker lives; optionally the worker dies on
    the first `record_outcome` (killed between apply and record)."""

    def __init__(self, inner: Journal, worker: Worker, *, die_on_record: bool = False) -> None:
        self._inner = inner
        self._worker = worker
        self._die_on_record = die_on_record

    def record_outcome(self, outcome: Outcome) -> None:
        self._worker.check()
        if self._die_on_record:
            self._die_on_record = False
            self._worker.kill(f"before recording {outcome.resource}")
        self._inner.record_outcome(outcome)

    def record_finding(self, finding: Finding, *, signal_id: str, at: datetime) -> None:
        self._worker.check()
        self._inner.record_finding(finding, signal_id=signal_id, at=at)

    def outcomes(self, *, since: datetime | None = None, limit: int = 100) -> list[Outcome]:
        self._worker.check()
        return self._inner.outcomes(since=since, limit=limit)

    def findings(self, *, since: datetime | None = None, limit: int = 100) -> list[Finding]:
        self._worker.check()
        return self._inner.findings(since=since, limit=limit)

    def outcome_page(
        self, *, since: datetime, limit: int, cursor: str | None = None
    ) -> OutcomePage:
        self._worker.check()
        return self._inner.outcome_page(since=since, limit=limit, cursor=cursor)

    def recorded_findings(
        self, *, since: datetime | None = None, limit: int = 100
    ) -> list[RecordedFinding]:
        self._worker.check()
        return self._inner.recorded_findings(since=since, limit=limit)

    def last_success(self, resource: str, action: ActionKind) -> datetime | None:
        self._worker.check()
        return self._inner.last_success(resource, action)

    def record_announcement(self, secret: SecretRef, *, at: datetime) -> None:
        self._worker.check()
        self._inner.record_announcement(secret, at=at)

    def announcements(self, secret: SecretRef) -> dict[str, datetime]:
        self._worker.check()
        return self._inner.announcements(secret)

    def claim(self, key: str, payload_hash: str, *, now: datetime, ttl: timedelta) -> Claim:
        self._worker.check()
        return self._inner.claim(key, payload_hash, now=now, ttl=ttl)

    def complete(self, claim: Claim, *, now: datetime, ttl: timedelta) -> None:
        self._worker.check()
        self._inner.complete(claim, now=now, ttl=ttl)

    def release(self, claim: Claim) -> None:
        self._worker.check()
        self._inner.release(claim)

    def acquire_lease(self, key: str, *, owner: str, now: datetime, ttl: timedelta) -> Lease | None:
        self._worker.check()
        return self._inner.acquire_lease(key, owner=owner, now=now, ttl=ttl)

    def renew_lease(self, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
        self._worker.check()
        return self._inner.renew_lease(lease, now=now, ttl=ttl)

    def release_lease(self, lease: Lease) -> None:
        self._worker.check()
        self._inner.release_lease(lease)

    def remember_refusal(self, refusal: RuleRefusal) -> None:
        self._worker.check()
        self._inner.remember_refusal(refusal)

    def refusals(self, registry: str) -> list[RuleRefusal]:
        self._worker.check()
        return self._inner.refusals(registry)

    def schedule_verification(self, pending: PendingVerification) -> None:
        self._worker.check()
        self._inner.schedule_verification(pending)

    def pending_verifications(self, *, due_at: datetime | None = None) -> list[PendingVerification]:
        self._worker.check()
        return self._inner.pending_verifications(due_at=due_at)

    def end_verification(self, key: str) -> None:
        self._worker.check()
        self._inner.end_verification(key)

    def keep_pending(self, pending: PendingSignal) -> None:
        self._worker.check()
        self._inner.keep_pending(pending)

    def pending_signal(self, key: str) -> PendingSignal | None:
        self._worker.check()
        return self._inner.pending_signal(key)

    def drop_pending(self, pending: PendingSignal) -> bool:
        self._worker.check()
        return self._inner.drop_pending(pending)

    def pending_signals(self, *, limit: int = 100) -> list[PendingSignal]:
        self._worker.check()
        return self._inner.pending_signals(limit=limit)

    def spend(self, key: str, *, limit: int, now: datetime, ttl: timedelta) -> bool:
        self._worker.check()
        return self._inner.spend(key, limit=limit, now=now, ttl=ttl)

    def refund(self, key: str, *, now: datetime) -> None:
        self._worker.check()
        self._inner.refund(key, now=now)
