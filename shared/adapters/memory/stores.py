"""In-memory policy table and journal, with ETags and idempotency claims like the table store."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.memory.declared_sets import MemoryDeclaredSets
from shared.domain.plans import (
    ActionKind,
    Finding,
    IdempotencyRecord,
    IdempotencyStatus,
    Outcome,
    OutcomeStatus,
)
from shared.domain.policies import Policy
from shared.domain.pull_policies import PullPolicy
from shared.domain.refusals import RuleRefusal
from shared.domain.secrets import SecretRef
from shared.domain.verification import PendingVerification
from shared.errors import ConcurrencyError, NotFoundError
from shared.ports import Claim, ClaimStatus, Lease, PendingSignal, StoredPolicy

__all__ = ["MemoryJournal", "MemoryPolicyStore", "MemoryReportStore"]


class MemoryPolicyStore(MemoryDeclaredSets):
    """Implements the PolicyStore port (declared credential sets: `MemoryDeclaredSets`)."""

    def __init__(self, policies: Sequence[Policy] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._rows: dict[str, StoredPolicy] = {}
        self._pull_rows: dict[str, PullPolicy] = {}
        for policy in policies:
            self.put_policy(policy)

    def list_policies(self) -> list[StoredPolicy]:
        return [self._rows[k] for k in sorted(self._rows)]

    def get_policy(self, policy_id: str) -> StoredPolicy:
        try:
            return self._rows[policy_id]
        except KeyError:
            raise NotFoundError(f"policy {policy_id!r} does not exist") from None

    def put_policy(self, policy: Policy, *, if_match: str | None = None) -> StoredPolicy:
        with self._lock:
            current = self._rows.get(policy.id)
            if if_match is not None and (current is None or current.etag != if_match):
                raise ConcurrencyError(f"policy {policy.id!r} changed since it was read")
            stored = StoredPolicy(policy, uuid.uuid4().hex)
            self._rows[policy.id] = stored
            return stored

    def delete_policy(self, policy_id: str, *, if_match: str | None = None) -> None:
        with self._lock:
            current = self.get_policy(policy_id)
            if if_match is not None and current.etag != if_match:
                raise ConcurrencyError(f"policy {policy_id!r} changed since it was read")
            del self._rows[policy_id]

    def replace_all(self, policies: Sequence[Policy]) -> None:
        with self._lock:
            self._rows = {p.id: StoredPolicy(p, uuid.uuid4().hex) for p in policies}

    def list_pull_policies(self) -> list[PullPolicy]:
        return [self._pull_rows[k] for k in sorted(self._pull_rows)]

    def put_pull_policy(self, policy: PullPolicy) -> None:
        with self._lock:
            self._pull_rows[policy.id] = policy

    def delete_pull_policy(self, policy_id: str) -> None:
        with self._lock:
            if self._pull_rows.pop(policy_id, None) is None:
                raise NotFoundError(f"pull policy {policy_id!r} does not exist")


class MemoryJournal:
    """Implements the Journal port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcome_log: list[Outcome] = []
        self._outcome_ids: set[str] = set()
        self.finding_log: list[tuple[datetime, str, Finding]] = []
        self.records: dict[str, IdempotencyRecord] = {}
        self.rule_refusals: dict[str, RuleRefusal] = {}
        self.announced: dict[str, dict[str, datetime]] = {}
        self.verifications: dict[str, PendingVerification] = {}
        self.leases: dict[str, Lease] = {}
        self.pending: dict[str, PendingSignal] = {}
        self.budgets: dict[str, tuple[int, datetime]] = {}  # key -> (spent, forgotten at)

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
                    return Claim(ClaimStatus.DUPLICATE, current)
                return Claim(ClaimStatus.IN_PROGRESS, current)
            record = IdempotencyRecord(key, payload_hash, IdempotencyStatus.IN_PROGRESS, now + ttl)
            self.records[key] = record
            return Claim(ClaimStatus.NEW, record)

    def complete(self, key: str, *, now: datetime, ttl: timedelta) -> None:
        with self._lock:
            current = self.records.get(key)
            if current is None:
                raise NotFoundError(f"no claim for {key!r}")
            self.records[key] = IdempotencyRecord(
                key, current.payload_hash, IdempotencyStatus.COMPLETED, now + ttl
            )

    def release(self, key: str) -> None:
        with self._lock:
            self.records.pop(key, None)

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


class MemoryReportStore:
    """Implements the ReportStore port."""

    def __init__(self) -> None:
        self.reports: dict[str, Mapping[str, Any]] = {}

    def save_report(self, report: Mapping[str, Any]) -> None:
        self.reports[str(report["id"])] = dict(report)

    def get_report(self, report_id: str) -> Mapping[str, Any]:
        try:
            return self.reports[report_id]
        except KeyError:
            raise NotFoundError(f"report {report_id!r} does not exist") from None

    def latest_report(self) -> Mapping[str, Any] | None:
        if not self.reports:
            return None
        return max(self.reports.values(), key=lambda r: str(r["finishedAt"]))
