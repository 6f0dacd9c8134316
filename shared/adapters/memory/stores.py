"""The in-memory journal, with ETags and idempotency claims like the table store."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import datetime, timedelta

from shared.domain.history import RecordedFinding
from shared.domain.plans import (
    ActionKind,
    Finding,
    IdempotencyRecord,
    IdempotencyStatus,
    Outcome,
    OutcomeStatus,
)
from shared.domain.product_events import ProductEvent
from shared.domain.refusals import RuleRefusal
from shared.domain.secrets import SecretRef
from shared.domain.verification import PendingVerification
from shared.errors import ConcurrencyError, InvalidInputError, NotFoundError
from shared.history_port import OutcomePage
from shared.ports import Claim, ClaimStatus, Lease, PendingSignal

__all__ = ["MemoryJournal"]


class MemoryJournal:
    """Implements the Journal port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcome_log: list[Outcome] = []
        self._outcome_ids: set[str] = set()
        self.finding_log: list[tuple[datetime, str, Finding]] = []
        self.records: dict[str, IdempotencyRecord] = {}
        self._claim_versions: dict[str, tuple[str, str]] = {}  # key -> (token, etag)
        self.rule_refusals: dict[str, RuleRefusal] = {}
        self.announced: dict[str, dict[str, datetime]] = {}
        self.verifications: dict[str, PendingVerification] = {}
        self.leases: dict[str, Lease] = {}
        self.pending: dict[str, PendingSignal] = {}
        self.budgets: dict[str, tuple[int, datetime]] = {}  # key -> (spent, forgotten at)
        self.outbox: dict[str, ProductEvent] = {}  # by id
        self.sent: set[str] = set()  # ids the topic accepted

    def record_announcement(self, secret: SecretRef, *, at: datetime) -> None:
        if secret.version is None:
            return
        with self._lock:
            known = self.announced.setdefault(str(secret.versionless()), {})
            known[secret.version] = max(at, known.get(secret.version, at))

    def announcements(self, secret: SecretRef) -> dict[str, datetime]:
        with self._lock:
            return dict(self.announced.get(str(secret.versionless()), {}))

    def record_outcome(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome.identity() not in self._outcome_ids:  # the first one is kept
                self._outcome_ids.add(outcome.identity())
                self.outcome_log.append(outcome)

    def record_finding(self, finding: Finding, *, signal_id: str, at: datetime) -> None:
        with self._lock:
            self.finding_log.append((at, signal_id, finding))

    def outcomes(self, *, since: datetime | None = None, limit: int = 100) -> list[Outcome]:
        items = [o for o in self.outcome_log if since is None or o.at >= since]
        return sorted(items, key=lambda o: o.at, reverse=True)[:limit]

    def findings(self, *, since: datetime | None = None, limit: int = 100) -> list[Finding]:
        items = [(at, f) for at, _, f in self.finding_log if since is None or at >= since]
        return [f for _, f in sorted(items, key=lambda pair: pair[0], reverse=True)[:limit]]

    def outcome_page(
        self, *, since: datetime, limit: int, cursor: str | None = None
    ) -> OutcomePage:
        start = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidInputError("cursor is not one this journal gave")
            start = int(cursor)
        items = self.outcomes(since=since, limit=len(self.outcome_log))[start : start + limit]
        more = limit > 0 and len(items) >= limit
        return OutcomePage(items, str(start + len(items)) if more else None)

    def recorded_findings(
        self, *, since: datetime | None = None, limit: int = 100
    ) -> list[RecordedFinding]:
        items = [RecordedFinding(f, signal, at) for at, signal, f in self.finding_log
                 if since is None or at >= since]  # fmt: skip
        return sorted(items, key=lambda r: r.at, reverse=True)[:limit]

    def last_success(self, resource: str, action: ActionKind) -> datetime | None:
        times = [
            o.at
            for o in self.outcome_log
            if o.action is action
            and o.status is OutcomeStatus.SUCCEEDED
            and o.resource.lower() == resource.lower()
        ]
        return max(times, default=None)

    def claim(self, key: str, payload_hash: str, *, now: datetime, ttl: timedelta) -> Claim:
        with self._lock:
            current = self.records.get(key)
            if current is not None and not current.is_expired(now):
                if current.payload_hash != payload_hash:
                    return Claim(ClaimStatus.PAYLOAD_MISMATCH, current)
                if current.status is IdempotencyStatus.COMPLETED:
                    return Claim(ClaimStatus.DUPLICATE, current, *self._claim_versions[key])
                return Claim(ClaimStatus.IN_PROGRESS, current)
            record = IdempotencyRecord(key, payload_hash, IdempotencyStatus.IN_PROGRESS, now + ttl)
            token, etag = uuid.uuid4().hex, uuid.uuid4().hex
            self.records[key] = record
            self._claim_versions[key] = (token, etag)
            return Claim(ClaimStatus.NEW, record, token, etag)

    def complete(self, claim: Claim, *, now: datetime, ttl: timedelta) -> None:
        key = claim.record.key
        with self._lock:
            current = self.records.get(key)
            if current is None:
                raise NotFoundError(f"no claim for {key!r}")
            if self._claim_versions.get(key, ("", ""))[0] != claim.token:
                raise ConcurrencyError(f"the claim of {key!r} is held by another attempt")
            self.records[key] = IdempotencyRecord(
                key, current.payload_hash, IdempotencyStatus.COMPLETED, now + ttl
            )
            self._claim_versions[key] = (claim.token, uuid.uuid4().hex)

    def release(self, claim: Claim) -> None:
        key = claim.record.key
        with self._lock:
            if self._claim_versions.get(key) == (claim.token, claim.etag):
                del self.records[key], self._claim_versions[key]

    def acquire_lease(self, key: str, *, owner: str, now: datetime, ttl: timedelta) -> Lease | None:
        with self._lock:
            current = self.leases.get(key)
            if current is not None and current.remaining(now) > timedelta(0):
                return None
            held = Lease(key, owner, now + ttl, uuid.uuid4().hex)
            self.leases[key] = held
            return held

    def renew_lease(self, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
        with self._lock:
            current = self.leases.get(lease.key)
            if (
                current is None
                or current.etag != lease.etag
                or lease.remaining(now) <= timedelta(0)
            ):
                raise ConcurrencyError(f"the lease {lease.key!r} is no longer held by this worker")
            renewed = Lease(lease.key, lease.owner, now + ttl, uuid.uuid4().hex)
            self.leases[lease.key] = renewed
            return renewed

    def release_lease(self, lease: Lease) -> None:
        with self._lock:
            current = self.leases.get(lease.key)
            if current is not None and current.etag == lease.etag:
                del self.leases[lease.key]

    def remember_refusal(self, refusal: RuleRefusal) -> None:
        with self._lock:
            self.rule_refusals[refusal.rule.lower()] = refusal

    def refusals(self, registry: str) -> list[RuleRefusal]:
        return [r for r in self.rule_refusals.values() if r.registry.lower() == registry.lower()]

    def schedule_verification(self, pending: PendingVerification) -> None:
        with self._lock:
            self.verifications[pending.key] = pending

    def pending_verifications(self, *, due_at: datetime | None = None) -> list[PendingVerification]:
        with self._lock:
            found = [p for p in self.verifications.values() if due_at is None or p.is_due(due_at)]
        return sorted(found, key=lambda p: (p.applied_at, p.key))

    def end_verification(self, key: str) -> None:
        with self._lock:
            self.verifications.pop(key, None)

    def keep_pending(self, pending: PendingSignal) -> None:
        with self._lock:
            self.pending[pending.key] = dataclasses.replace(pending, version=uuid.uuid4().hex)

    def pending_signal(self, key: str) -> PendingSignal | None:
        with self._lock:
            return self.pending.get(key)

    def drop_pending(self, pending: PendingSignal) -> bool:
        with self._lock:
            current = self.pending.get(pending.key)
            if current is not None and current.version != pending.version:
                return False
            self.pending.pop(pending.key, None)
            return True

    def pending_signals(self, *, limit: int = 100) -> list[PendingSignal]:
        with self._lock:
            return sorted(self.pending.values(), key=lambda p: (p.at, p.key))[:limit]

    def spend(self, key: str, *, limit: int, now: datetime, ttl: timedelta) -> bool:
        with self._lock:
            spent, until = self.budgets.get(key, (0, now + ttl))
            if until <= now:
                spent, until = 0, now + ttl
            if spent >= limit:
                return False
            self.budgets[key] = (spent + 1, until)
            return True

    def refund(self, key: str, *, now: datetime) -> None:
        with self._lock:
            spent, until = self.budgets.get(key, (0, now))
            if spent > 0 and until > now:
                self.budgets[key] = (spent - 1, until)

    def enqueue_event(self, event: ProductEvent) -> None:
        with self._lock:
            if event.id not in self.sent:
                self.outbox.setdefault(event.id, event)  # the first one is kept

    def queued_events(self, *, limit: int = 100) -> list[ProductEvent]:
        with self._lock:
            found = sorted(self.outbox.values(), key=lambda e: (e.time, e.id))
        return found[: max(limit, 0)]

    def dequeue_event(self, event_id: str) -> None:
        with self._lock:
            self.sent.add(event_id)
            self.outbox.pop(event_id, None)
