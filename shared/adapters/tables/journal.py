"""The journal on Azure Table Storage: outcomes, findings and idempotency claims in one table.

Entries live in one partition per UTC day whose key sorts newest day first
(`outcome-<99999999 - YYYYMMDD>`), and their RowKey is the inverted microsecond timestamp plus a
random suffix. Table queries return rows in (PartitionKey, RowKey) order, so one range query reads
newest first, touches only the days since `since`, and stops after `limit` rows.

Claims are rows in partition `idempotency` keyed by the SHA-256 of the signal key (table keys
forbid `/ \\ # ?` and control characters; a hash is also fixed-length); leases, likewise, in
partition `lease` (`_leases`). Partition `last-success`
holds one row per (action, resource) with the newest successful outcome's time, so
`last_success` is one point read instead of a scan of the whole journal. Partition
`outcome_identity` makes outcomes idempotent (`_outcomes`). Partitions `announced`
(`_announcements`), `refusal` (`_refusals`), `verification` (`_verifications`) and `outbox`
(`_outbox`) hold the announced secret versions, ARM's refusals of cache rules, changes pending
verification, and cachekeeper's own events still to publish; `pending` and `budget` (`_backlog`)
the signals waiting on a claim and the rule budgets.
History reads (`_history`) page through the entry partitions of a window of days by a cursor.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from shared.adapters.tables._announcements import load_announcements, save_announcement
from shared.adapters.tables._backlog import TableBacklog
from shared.adapters.tables._claims import complete_claim, release_claim, take_claim
from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import (
    as_utc,
    dump_finding,
    dump_outcome,
    load_finding,
    load_outcome,
)
from shared.adapters.tables._history import outcome_page, recorded_findings
from shared.adapters.tables._leases import acquire_lease, release_lease, renew_lease
from shared.adapters.tables._outbox import dequeue, enqueue, queued
from shared.adapters.tables._outcomes import day_partition, entry, inverted, record_once
from shared.adapters.tables._refusals import load_refusals, save_refusal
from shared.adapters.tables._rows import UNANSWERED, etag_of, read_row, replace_unless_changed
from shared.adapters.tables._verifications import (
    delete_verification,
    list_verifications,
    put_verification,
)
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
from shared.errors import CachekeeperError, ConcurrencyError, ConflictError, NotFoundError
from shared.history_port import OutcomePage
from shared.ports import Claim, Lease

if TYPE_CHECKING:
    from azure.data.tables import TableServiceClient

__all__ = ["TableJournal"]

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_OUTCOME = "outcome"
_FINDING = "finding"
_SUCCESS = "last-success"
_ATTEMPTS = 5  # optimistic-concurrency retries before giving up with ConcurrencyError


class TableJournal(TableBacklog):
    """Implements the Journal port on one table (see the module docstring for the layout)."""

    def __init__(self, service: TableServiceClient, table_name: str) -> None:
        self._table = LazyTable(service, table_name)

    def record_outcome(self, outcome: Outcome) -> None:
        """Record an outcome once per identity (`_outcomes`), and move the last-success mark
        when it is a newer success."""
        row = entry(_OUTCOME, outcome.at, outcome.signal_id, dump_outcome(outcome))
        record_once(self._table, outcome.identity(), row)
        if outcome.status is OutcomeStatus.SUCCEEDED and outcome.action is not None:
            # After the entry, so a failure here leaves the mark older than the truth: that costs
            # at most one needless refresh (reactions are safe to repeat), never a missed one.
            self._mark_success(outcome.resource, outcome.action, outcome.at)

    def record_finding(self, finding: Finding, *, signal_id: str, at: datetime) -> None:
        """Append a finding raised while handling a signal."""
        self._append(_FINDING, at, signal_id, dump_finding(finding))

    def outcomes(self, *, since: datetime | None = None, limit: int = 100) -> list[Outcome]:
        """Outcomes newest first, at or after `since`, at most `limit`."""
        return self._newest(_OUTCOME, since, limit, load_outcome)

    def findings(self, *, since: datetime | None = None, limit: int = 100) -> list[Finding]:
        """Findings newest first, recorded at or after `since`, at most `limit`."""
        return self._newest(_FINDING, since, limit, load_finding)

    def outcome_page(
        self, *, since: datetime, limit: int, cursor: str | None = None
    ) -> OutcomePage:
        """A page of outcomes since `since`, newest first (`_history`)."""
        return outcome_page(self._table, since=since, limit=limit, cursor=cursor)

    def recorded_findings(
        self, *, since: datetime | None = None, limit: int = 100
    ) -> list[RecordedFinding]:
        """Findings newest first, with their time and signal id (`_history`)."""
        return recorded_findings(self._table, since=since, limit=limit)

    def last_success(self, resource: str, action: ActionKind) -> datetime | None:
        """When `action` last succeeded on `resource` (resource ids compare case-insensitively)."""
        try:
            with sdk_errors(f"read last success of {action.value}"):
                entity = self._table.client().get_entity(_SUCCESS, _success_row(resource, action))
        except NotFoundError:
            return None
        try:
            return datetime.fromisoformat(str(entity["atText"]))
        except (KeyError, ValueError):
            at = entity.get("at")
            return as_utc(at) if isinstance(at, datetime) else None

    def record_announcement(self, secret: SecretRef, *, at: datetime) -> None:
        """Remember that an event named `secret.version` at `at` (see `_announcements`)."""
        save_announcement(self._table, secret, at)

    def announcements(self, secret: SecretRef) -> dict[str, datetime]:
        """Version id -> when an event announced it, for one secret."""
        return load_announcements(self._table, secret)

    def claim(self, key: str, payload_hash: str, *, now: datetime, ttl: timedelta) -> Claim:
        """Atomically claim a signal for handling (see ClaimStatus and `_claims`)."""
        now = as_utc(now)
        fresh = IdempotencyRecord(key, payload_hash, IdempotencyStatus.IN_PROGRESS, now + ttl)
        return take_claim(self._table, fresh, now=now)

    def complete(self, claim: Claim, *, now: datetime, ttl: timedelta) -> None:
        """Mark a claimed signal as handled; replays within `ttl` become duplicates."""
        complete_claim(self._table, claim, expires_at=as_utc(now) + ttl)

    def release(self, claim: Claim) -> None:
        """Drop this attempt's claim after a failure so a redelivery can handle the signal again."""
        release_claim(self._table, claim)

    def acquire_lease(self, key: str, *, owner: str, now: datetime, ttl: timedelta) -> Lease | None:
        """Take the lease `key` for `owner` (partition `lease`, `_leases.py`)."""
        return acquire_lease(self._table, key, owner=owner, now=now, ttl=ttl)

    def renew_lease(self, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
        """Extend a held lease, conditional on its ETag."""
        return renew_lease(self._table, lease, now=now, ttl=ttl)

    def release_lease(self, lease: Lease) -> None:
        """Delete the lease row if it is still this holder's."""
        release_lease(self._table, lease)

    def remember_refusal(self, refusal: RuleRefusal) -> None:
        """Keep ARM's refusal of a cache rule (partition `refusal`, `_refusals.py`)."""
        save_refusal(self._table, refusal)

    def refusals(self, registry: str) -> list[RuleRefusal]:
        """The remembered refusals of rules in `registry`."""
        return load_refusals(self._table, registry)

    def schedule_verification(self, pending: PendingVerification) -> None:
        """Keep a change's pending verification (see `_verifications`)."""
        put_verification(self._table, pending)

    def pending_verifications(self, *, due_at: datetime | None = None) -> list[PendingVerification]:
        """Pending verifications, oldest applied first; with `due_at`, only those due by then."""
        return list_verifications(self._table, due_at)

    def end_verification(self, key: str) -> None:
        """Drop a concluded verification."""
        delete_verification(self._table, key)

    def enqueue_event(self, event: ProductEvent) -> None:
        """Queue an event to publish (partition `outbox`, `_outbox.py`)."""
        enqueue(self._table, event)

    def queued_events(self, *, limit: int = 100) -> list[ProductEvent]:
        """Events still to publish, oldest first."""
        return queued(self._table, limit)

    def dequeue_event(self, event_id: str) -> None:
        """Drop a published event."""
        dequeue(self._table, event_id)

    def _mark_success(self, resource: str, action: ActionKind, at: datetime) -> None:
        moment = as_utc(at)
        row = _success_row(resource, action)
        entity: dict[str, Any] = {
            "PartitionKey": _SUCCESS,
            "RowKey": row,
            "resource": resource[:1_000],
            "action": action.value,
            "at": moment,
            "atText": at.isoformat(),  # read back as given, time zone included
        }
        table = self._table.client()
        failure: CachekeeperError = ConcurrencyError(
            f"the last success of {action.value} kept changing; retry later"
        )
        # Outcomes can be recorded out of order: only ever move the mark forward.
        for _ in range(_ATTEMPTS):
            try:
                with sdk_errors(f"mark last success of {action.value}"):
                    table.create_entity(entity)
                return
            except ConflictError:
                pass
            except UNANSWERED as error:
                failure = error  # the insert may have landed: the read below tells
            current = read_row(table, _SUCCESS, row, f"read last success of {action.value}")
            if current is None:
                continue
            known = current.get("at")
            if isinstance(known, datetime) and as_utc(known) >= moment:
                return
            if replace_unless_changed(table, entity, etag_of(current)):
                return
        raise failure

    def _append(self, kind: str, at: datetime, signal_id: str, data: str) -> None:
        from azure.data.tables import UpdateMode

        # An upsert of a row with a fresh RowKey: it never meets another row, and unlike an insert
        # (POST) the SDK resends it (PUT) when its answer is lost, so one write lands once.
        with sdk_errors(f"record {kind} of signal {signal_id!r}"):
            self._table.client().upsert_entity(
                entry(kind, at, signal_id, data), mode=UpdateMode.REPLACE
            )

    def _newest(
        self, kind: str, since: datetime | None, limit: int, load: Callable[[str], _T]
    ) -> list[_T]:
        if limit <= 0:
            return []
        query = "PartitionKey ge @first and PartitionKey lt @after"
        parameters = {"first": f"{kind}-", "after": f"{kind}."}  # '.' sorts right after '-'
        if since is not None:
            moment = as_utc(since)
            # Days after `since` have smaller keys; rows at or after it have RowKeys below this.
            query = "PartitionKey ge @first and PartitionKey le @last and RowKey lt @before"
            parameters = {
                "first": f"{kind}-",
                "last": day_partition(kind, moment),
                "before": f"{inverted(moment)}.",
            }
        items: list[_T] = []
        with sdk_errors(f"list {kind}s"):
            pages = self._table.client().query_entities(
                query, parameters=parameters, results_per_page=min(limit, 1000)
            )
            for entity in pages:
                try:
                    items.append(load(str(entity["data"])))
                except (KeyError, TypeError, ValueError) as exc:
                    _log.warning(
                        "skipping unreadable journal row %s/%s: %s",
                        entity.get("PartitionKey"),
                        entity.get("RowKey"),
                        type(exc).__name__,
                    )
                    continue
                if len(items) >= limit:
                    break
        return items


def _success_row(resource: str, action: ActionKind) -> str:
    return hashlib.sha256(f"{action.value}|{resource.lower()}".encode()).hexdigest()
