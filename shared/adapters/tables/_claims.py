"""Idempotency claim rows (partition `idempotency`, keyed by the SHA-256 of the signal key): taking,
completing and releasing a claim.

A claim row holds the payload hash, the status, the expiry and the `holder`: a token unique to
the claim attempt that wrote it. Taking inserts the row (of two concurrent inserts the service
lets exactly one win) or, once it expired, replaces it on the ETag it was read with; completing is
a merge and releasing a delete, both conditional on the ETag the attempt wrote, so an attempt
whose claim expired and was taken over can neither complete nor delete the new holder's. Any of
these writes may land with its answer lost (`_rows`): the attempt then reads the row back, and
its own token there means the write landed. So a lost answer never turns the attempt's own claim
into "another worker's", which would block the signal until the claim expires.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.adapters.tables._rows import UNANSWERED, etag_of, read_row, replace_unless_changed
from shared.domain.plans import IdempotencyRecord, IdempotencyStatus
from shared.errors import CachekeeperError, ConcurrencyError, ConflictError, NotFoundError
from shared.ports import Claim, ClaimStatus

__all__ = ["CLAIMS", "claim_row", "complete_claim", "release_claim", "take_claim"]

_log = logging.getLogger("shared.adapters.tables.journal")
CLAIMS = "idempotency"
_ATTEMPTS = 5  # writes (lost, raced or refused) before giving up


def claim_row(key: str) -> str:
    """The RowKey of a claim: SHA-256 of the key, so any key (`/`, `#`, unicode) fits."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def take_claim(table: LazyTable, record: IdempotencyRecord, *, now: datetime) -> Claim:
    """Claim `record.key` for a new attempt (see the module docstring); `record` is the fresh
    in-progress record the attempt writes."""
    token = uuid.uuid4().hex
    entity = _entity(record, token)
    client = table.client()
    failure: CachekeeperError = ConcurrencyError(
        f"claim {record.key!r} kept changing under contention; retry later"
    )
    for _ in range(_ATTEMPTS):
        try:
            with sdk_errors(f"claim {record.key!r}"):
                written = client.create_entity(entity)
            return Claim(ClaimStatus.NEW, record, token, str(written["etag"]))
        except ConflictError:
            pass  # a row is there: another attempt's, or ours when a lost insert was resent
        except UNANSWERED as error:
            failure = error  # the insert may have landed: the read below tells
        current = read_row(client, CLAIMS, entity["RowKey"], f"read claim {record.key!r}")
        if current is None:
            continue  # never landed, or released since: insert again
        if current.get("holder") == token:
            return Claim(ClaimStatus.NEW, record, token, etag_of(current))
        existing = _record(record.key, current)
        if existing is not None and not existing.is_expired(now):
            status = _status(existing, record.payload_hash)
            if status is ClaimStatus.DUPLICATE:  # the completed record, to release it on purpose
                return Claim(status, existing, str(current.get("holder", "")), etag_of(current))
            return Claim(status, existing)
        try:
            etag = replace_unless_changed(client, entity, etag_of(current))
        except UNANSWERED as error:
            failure = error  # the takeover may have landed: the next read tells
            continue
        if etag is not None:
            return Claim(ClaimStatus.NEW, record, token, etag)
        # Someone else took over or released it first, or a resent replace met its own ETag:
        # look again and answer from that.
    raise failure


def complete_claim(table: LazyTable, claim: Claim, *, expires_at: datetime) -> None:
    """Mark this attempt's claim completed until `expires_at`, conditional on its ETag."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    key = claim.record.key
    change: dict[str, Any] = {
        "PartitionKey": CLAIMS,
        "RowKey": claim_row(key),
        "status": IdempotencyStatus.COMPLETED.value,
        "expiresAt": as_utc(expires_at),
    }
    client = table.client()
    etag = claim.etag
    failure: CachekeeperError = _taken(key)
    for _ in range(_ATTEMPTS):
        try:
            with sdk_errors(f"complete claim {key!r}"):
                client.update_entity(
                    change,
                    mode=UpdateMode.MERGE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            return
        except NotFoundError:
            raise NotFoundError(f"no claim for {key!r}") from None
        except ConcurrencyError:
            pass  # changed since this attempt wrote it: by another attempt, or by ours, unanswered
        except UNANSWERED as error:
            failure = error  # the merge may have landed: the read below tells
        current = read_row(client, CLAIMS, change["RowKey"], f"read claim {key!r}")
        if current is None:
            raise NotFoundError(f"no claim for {key!r}")
        if current.get("holder") != claim.token:
            raise _taken(key)
        if current.get("status") == IdempotencyStatus.COMPLETED.value:
            return  # our merge landed, its answer lost
        etag = etag_of(current)  # still ours, still in progress: the merge never landed
    raise failure


def release_claim(table: LazyTable, claim: Claim) -> None:
    """Delete this attempt's claim row if it still carries the ETag the attempt wrote: a claim
    completed since (by this attempt, its answer lost) or taken over is left alone. A resent
    delete whose first attempt landed meets no row, which is fine."""
    from azure.core import MatchConditions

    key = claim.record.key
    try:
        with sdk_errors(f"release claim {key!r}"):
            table.client().delete_entity(
                CLAIMS,
                claim_row(key),
                etag=claim.etag,
                match_condition=MatchConditions.IfNotModified,
            )
    except (ConcurrencyError, NotFoundError):
        pass


def _taken(key: str) -> ConcurrencyError:
    return ConcurrencyError(f"the claim of {key!r} is held by another attempt now")


def _entity(record: IdempotencyRecord, token: str) -> dict[str, Any]:
    return {
        "PartitionKey": CLAIMS,
        "RowKey": claim_row(record.key),
        "key": record.key[:1_000],  # for people reading the table; the RowKey is its hash
        "payloadHash": record.payload_hash,
        "status": record.status.value,
        "expiresAt": record.expires_at,
        "holder": token,
    }


def _record(key: str, entity: Any) -> IdempotencyRecord | None:
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
        # An unreadable claim is treated as expired: reactions are safe to repeat (events are
        # hints, state is truth: docs/architecture.md), while a claim nobody can ever take would
        # block the signal forever.
        _log.warning("claim row %s is unreadable (%s); taking it over", claim_row(key), exc)
        return None


def _status(record: IdempotencyRecord, payload_hash: str) -> ClaimStatus:
    """What an unexpired claim means for a new attempt with `payload_hash`."""
    if record.payload_hash != payload_hash:
        return ClaimStatus.PAYLOAD_MISMATCH
    if record.status is IdempotencyStatus.COMPLETED:
        return ClaimStatus.DUPLICATE
    return ClaimStatus.IN_PROGRESS
