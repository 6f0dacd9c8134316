"""Idempotency claim rows: the key's hash as RowKey, and reading a row back into a record."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.domain.plans import IdempotencyRecord, IdempotencyStatus
from shared.errors import ConcurrencyError, NotFoundError
from shared.ports import ClaimStatus

if TYPE_CHECKING:
    from azure.data.tables import TableClient

__all__ = [
    "CLAIMS",
    "claim_entity",
    "claim_row",
    "claim_status",
    "read_claim",
    "replace_unless_changed",
]

_log = logging.getLogger("shared.adapters.tables.journal")
CLAIMS = "idempotency"


def claim_row(key: str) -> str:
    """The RowKey of a claim: SHA-256 of the key, so any key (`/`, `#`, unicode) fits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def claim_entity(record: IdempotencyRecord) -> dict[str, Any]:
    """The table row of a claim record."""
    return {
        "PartitionKey": CLAIMS,
        "RowKey": claim_row(record.key),
        "key": record.key[:1_000],  # for people reading the table; the RowKey is its hash
        "payloadHash": record.payload_hash,
        "status": record.status.value,
        "expiresAt": record.expires_at,
    }


def read_claim(key: str, entity: Any) -> IdempotencyRecord | None:
    """The record a claim row holds; None when the row is unreadable."""
    try:
        expires = entity["expiresAt"]
        if not isinstance(expires, datetime):
            raise TypeError("expiresAt is not a datetime")
        return IdempotencyRecord(
            key,
            str(entity["payloadHash"]),
            IdempotencyStatus(entity["status"]),
            as_utc(expires),
        )
    except (KeyError, TypeError, ValueError) as exc:
        # An unreadable claim is treated as expired: reactions are safe to repeat (events are hints, state is truth: docs/architecture.md),
        # while a claim nobody can ever take would block the signal forever.
        _log.warning("claim row %s is unreadable (%s); taking it over", claim_row(key), exc)
        return None


def claim_status(record: IdempotencyRecord, payload_hash: str) -> ClaimStatus:
    """What an unexpired claim means for a new attempt with `payload_hash`."""
    if record.payload_hash != payload_hash:
        return ClaimStatus.PAYLOAD_MISMATCH
    if record.status is IdempotencyStatus.COMPLETED:
        return ClaimStatus.DUPLICATE
    return ClaimStatus.IN_PROGRESS


def replace_unless_changed(table: TableClient, entity: dict[str, Any], etag: str) -> bool:
    """Replace a row only if it still has `etag`; False when someone changed or deleted it."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    try:
        with sdk_errors(f"replace row {entity['PartitionKey']}/{entity['RowKey']}"):
            table.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
    except (ConcurrencyError, NotFoundError):
        return False
    return True
