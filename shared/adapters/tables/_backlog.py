"""Pending signals and budgets on the journal table (`shared/backlog_port.py`).

Partition `pending`: one row per claim key (RowKey: its SHA-256) holding the newest signal that
arrived while the claim was held; a newer one replaces it (upsert), and the holder drops it only
on the ETag it read, so a signal that arrived in between survives. Partition `budget`: one row
per budget key with the units spent and when it is forgotten; a spend inserts the row (of two
workers inserting at once exactly one wins) or replaces it on the ETag it was read with, so two
workers cannot both take the last unit.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.adapters.tables._rows import replace_unless_changed
from shared.errors import ConcurrencyError, ConflictError, NotFoundError
from shared.ports import PendingSignal

__all__ = ["TableBacklog"]

_log = logging.getLogger(__name__)
_PENDING = "pending"
_BUDGET = "budget"
_ATTEMPTS = 8  # optimistic-concurrency retries before giving up with ConcurrencyError


def _row(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _pending(entity: Any) -> PendingSignal | None:
    try:
        at = entity["at"]
        if not isinstance(at, datetime):
            raise TypeError("at is not a datetime")
        return PendingSignal(
            str(entity["key"]), str(entity["signalId"]), str(entity["payload"]), as_utc(at),
            str(entity.metadata["etag"]),
        )  # fmt: skip
    except (KeyError, TypeError, AttributeError) as exc:
        _log.warning("skipping unreadable pending row %s: %s", entity.get("RowKey"), exc)
        return None


class TableBacklog:
    """The PendingJournal and BudgetJournal halves of TableJournal (which sets `_table`)."""

    _table: LazyTable

    def keep_pending(self, pending: PendingSignal) -> None:
        """Insert or replace the pending signal of its claim key."""
        from azure.data.tables import UpdateMode

        entity = {
            "PartitionKey": _PENDING,
            "RowKey": _row(pending.key),
            "key": pending.key,
            "signalId": pending.signal_id[:1_000],
            "payload": pending.payload,
            "at": as_utc(pending.at),
        }
        with sdk_errors(f"keep pending signal {pending.signal_id!r}"):
            self._table.client().upsert_entity(entity, mode=UpdateMode.REPLACE)

    def pending_signal(self, key: str) -> PendingSignal | None:
        """The pending signal of `key`, its ETag as version; None when there is none."""
        try:
            with sdk_errors(f"read pending signal of {key!r}"):
                entity = self._table.client().get_entity(_PENDING, _row(key))
        except NotFoundError:
            return None
        return _pending(entity)

    def drop_pending(self, pending: PendingSignal) -> bool:
        """Delete the row only if it still carries the ETag it was read with (a missing row is
        fine: the SDK answers a delete of nothing as done)."""
        from azure.core import MatchConditions

        try:
            with sdk_errors(f"drop pending signal {pending.signal_id!r}"):
                self._table.client().delete_entity(
                    _PENDING,
                    _row(pending.key),
                    etag=pending.version,
                    match_condition=MatchConditions.IfNotModified,
                )
        except ConcurrencyError:
            return False  # replaced by a newer signal
        except NotFoundError:
            return True
        return True

    def pending_signals(self, *, limit: int = 100) -> list[PendingSignal]:
        """Every pending signal, oldest first (at most `limit`)."""
        found: list[PendingSignal] = []
        with sdk_errors("list pending signals"):
            rows = self._table.client().query_entities(
                "PartitionKey eq @partition", parameters={"partition": _PENDING}
            )
            found = [p for p in (_pending(row) for row in rows) if p is not None]
        return sorted(found, key=lambda p: (p.at, p.key))[:limit]

    def spend(self, key: str, *, limit: int, now: datetime, ttl: timedelta) -> bool:
        """Take one unit of the budget `key` unless `limit` are taken (see the module docstring)."""
        moment = as_utc(now)
        table = self._table.client()
        for _ in range(_ATTEMPTS):
            if limit <= 0:
                return False
            fresh = _budget_entity(key, 1, moment + ttl)
            try:
                with sdk_errors(f"spend budget {key!r}"):
                    table.create_entity(fresh)
                return True
            except ConflictError:
                pass
            current = self._budget(key)
            if current is None:
                continue  # deleted between our insert and our read: insert again
            spent, until, etag = current
            if until <= moment:
                if replace_unless_changed(table, fresh, etag):
                    return True
                continue
            if spent >= limit:
                return False
            if replace_unless_changed(table, _budget_entity(key, spent + 1, until), etag):
                return True
        raise ConcurrencyError(f"budget {key!r} kept changing under contention; retry later")

    def refund(self, key: str, *, now: datetime) -> None:
        """Give one unit back, on the ETag it was read with; never below zero."""
        table = self._table.client()
        for _ in range(_ATTEMPTS):
            current = self._budget(key)
            if current is None:
                return
            spent, until, etag = current
            if spent <= 0 or until <= as_utc(now):
                return
            if replace_unless_changed(table, _budget_entity(key, spent - 1, until), etag):
                return
        raise ConcurrencyError(f"budget {key!r} kept changing under contention; retry later")

    def _budget(self, key: str) -> tuple[int, datetime, str] | None:
        try:
            with sdk_errors(f"read budget {key!r}"):
                entity = self._table.client().get_entity(_BUDGET, _row(key))
        except NotFoundError:
            return None
        until = entity.get("expiresAt")
        spent = entity.get("spent")
        etag = str(entity.metadata["etag"])
        if not isinstance(until, datetime) or not isinstance(spent, int):
            return 0, datetime.min.replace(tzinfo=UTC), etag  # unreadable: taken as forgotten
        return spent, as_utc(until), etag


def _budget_entity(key: str, spent: int, until: datetime) -> dict[str, Any]:
    return {
        "PartitionKey": _BUDGET,
        "RowKey": _row(key),
        "key": key[:1_000],
        "spent": spent,
        "expiresAt": until,
    }
