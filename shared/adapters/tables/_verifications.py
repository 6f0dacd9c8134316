"""Pending verifications on the journal table: partition `verification`, one row per change.

The RowKey is the SHA-256 of the verification's key; `nextCheckAt` is a typed column so the
timer's query ("due by now") is answered by the service, and `data` holds the record's JSON.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.domain.verification import PendingVerification

__all__ = ["VERIFICATIONS", "delete_verification", "list_verifications", "put_verification"]

VERIFICATIONS = "verification"
_log = logging.getLogger(__name__)


def _row(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def put_verification(table: LazyTable, pending: PendingVerification) -> None:
    """Insert or replace the row of `pending`."""
    from azure.data.tables import UpdateMode

    entity: dict[str, Any] = {
        "PartitionKey": VERIFICATIONS,
        "RowKey": _row(pending.key),
        "nextCheckAt": as_utc(pending.next_check_at),
        "signalId": pending.signal_id[:1_000],
        "data": json.dumps(pending.to_dict(), ensure_ascii=True, separators=(",", ":")),
    }
    with sdk_errors(f"schedule verification of {pending.action.value}"):
        table.client().upsert_entity(entity, mode=UpdateMode.REPLACE)


def list_verifications(table: LazyTable, due_at: datetime | None) -> list[PendingVerification]:
    """Every pending verification (due by `due_at` when given), oldest applied first."""
    query = "PartitionKey eq @partition"
    parameters: dict[str, Any] = {"partition": VERIFICATIONS}
    if due_at is not None:
        query += " and nextCheckAt le @due"
        parameters["due"] = as_utc(due_at)
    found: list[PendingVerification] = []
    with sdk_errors("list pending verifications"):
        for entity in table.client().query_entities(query, parameters=parameters):
            try:
                found.append(PendingVerification.from_dict(json.loads(str(entity["data"]))))
            except (KeyError, TypeError, ValueError) as exc:
                _log.warning("skipping unreadable verification row %s: %s",
                             entity.get("RowKey"), type(exc).__name__)  # fmt: skip
    return sorted(found, key=lambda p: (p.applied_at, p.key))


def delete_verification(table: LazyTable, key: str) -> None:
    """Drop the row of `key` (a missing one is fine)."""
    with sdk_errors("end verification"):
        table.client().delete_entity(VERIFICATIONS, _row(key))
