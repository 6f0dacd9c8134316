"""Lease rows: partition `lease`, one row per leased resource keyed by the SHA-256 of its key.

A row holds the owner token of the acquisition and its expiry. Acquiring inserts the row (the
service lets exactly one of two concurrent inserts win) or, once it expired, replaces it on the
ETag it was read with; renewing and releasing are conditional on the ETag the holder last wrote,
so a worker whose lease was taken over can neither extend nor delete the new holder's row. A
write whose answer was lost is resolved by reading the row back (`_rows`): the holder's owner
token and the expiry it wrote mean the write landed, so a lost answer neither leaves a lease
nobody knows it holds until it expires nor takes a renewed lease for a lost one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.adapters.tables._rows import UNANSWERED, etag_of, read_row, replace_unless_changed
from shared.errors import CachekeeperError, ConcurrencyError, ConflictError, NotFoundError
from shared.ports import Lease

__all__ = ["acquire_lease", "release_lease", "renew_lease"]

_LEASES = "lease"
_ATTEMPTS = 5


def _row(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _entity(key: str, owner: str, expires_at: datetime) -> dict[str, Any]:
    return {
        "PartitionKey": _LEASES,
        "RowKey": _row(key),
        "key": key[:1_000],
        "owner": owner,
        "expiresAt": expires_at,
    }


def _lost(key: str) -> ConcurrencyError:
    return ConcurrencyError(f"the lease {key!r} is no longer held by this worker")


def acquire_lease(
    table: LazyTable, key: str, *, owner: str, now: datetime, ttl: timedelta
) -> Lease | None:
    """Take the lease (see the module docstring); None while another holder's is unexpired."""
    expires = as_utc(now) + ttl
    entity = _entity(key, owner, expires)
    client = table.client()
    failure: CachekeeperError = ConcurrencyError(
        f"lease {key!r} kept changing under contention; retry later"
    )
    for _ in range(_ATTEMPTS):
        try:
            with sdk_errors(f"acquire lease {key!r}"):
                written = client.create_entity(entity)
            return Lease(key, owner, expires, str(written["etag"]))
        except ConflictError:
            pass  # another holder's row, or ours when a lost insert was resent
        except UNANSWERED as error:
            failure = error  # the insert may have landed: the read below tells
        current = read_row(client, _LEASES, entity["RowKey"], f"read lease {key!r}")
        if current is None:
            continue  # never landed, or released since: insert again
        if _written_by_us(current, owner, expires):
            return Lease(key, owner, expires, etag_of(current))
        held_until = current.get("expiresAt")
        if isinstance(held_until, datetime) and as_utc(held_until) > as_utc(now):
            return None
        try:
            etag = replace_unless_changed(client, entity, etag_of(current))
        except UNANSWERED as error:
            failure = error  # the takeover may have landed: the next read tells
            continue
        if etag is not None:
            return Lease(key, owner, expires, etag)
    raise failure


def renew_lease(table: LazyTable, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
    """Extend the lease to now + ttl on its ETag; ConcurrencyError when it is no longer held. A
    renewal that landed unanswered (its resend meets its own ETag) is read back and kept."""
    if lease.remaining(as_utc(now)) <= timedelta(0):
        raise _lost(lease.key)  # expired: another worker may hold it by its own clock
    expires = as_utc(now) + ttl
    client = table.client()
    entity = _entity(lease.key, lease.owner, expires)
    try:
        etag = replace_unless_changed(client, entity, lease.etag)
    except UNANSWERED:
        etag = None  # it may have landed: the read below tells
    if etag is None:
        current = read_row(client, _LEASES, entity["RowKey"], f"read lease {lease.key!r}")
        if current is None or not _written_by_us(current, lease.owner, expires):
            raise _lost(lease.key)
        etag = etag_of(current)
    return Lease(lease.key, lease.owner, expires, etag)


def release_lease(table: LazyTable, lease: Lease) -> None:
    """Delete the lease row only if it still carries this holder's ETag."""
    from azure.core import MatchConditions

    try:
        with sdk_errors(f"release lease {lease.key!r}"):
            table.client().delete_entity(
                _LEASES,
                _row(lease.key),
                etag=lease.etag,
                match_condition=MatchConditions.IfNotModified,
            )
    except (ConcurrencyError, NotFoundError):
        pass  # another holder's row (or none): not ours to delete


def _written_by_us(row: Any, owner: str, expires: datetime) -> bool:
    """Whether `row` is the one this holder's write of `expires` left (the owner token is unique
    to the acquisition; the expiry tells this write from the holder's earlier ones)."""
    held_until = row.get("expiresAt")
    return (
        row.get("owner") == owner
        and isinstance(held_until, datetime)
        and as_utc(held_until) == as_utc(expires)
    )
