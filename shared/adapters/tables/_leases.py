"""Lease rows: partition `lease`, one row per leased resource keyed by the SHA-256 of its key.

A row holds the owner token of the acquisition and its expiry. Acquiring inserts the row (the
service lets exactly one of two concurrent inserts win) or, once it expired, replaces it on the
ETag it was read with; renewing and releasing are conditional on the ETag the holder last wrote,
so a worker whose lease was taken over can neither extend nor delete the new holder's row.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.adapters.tables._client import LazyTable, sdk_errors
from shared.adapters.tables._codec import as_utc
from shared.errors import ConcurrencyError, ConflictError, NotFoundError
from shared.ports import Lease

if TYPE_CHECKING:
    from azure.data.tables import TableClient

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
    for _ in range(_ATTEMPTS):
        try:
            with sdk_errors(f"acquire lease {key!r}"):
                written = client.create_entity(entity)
            return Lease(key, owner, expires, str(written["etag"]))
        except ConflictError:
            pass
        try:
            with sdk_errors(f"read lease {key!r}"):
                current = client.get_entity(_LEASES, entity["RowKey"])
        except NotFoundError:
            continue  # released between our insert and our read: insert again
        held_until = current.get("expiresAt")
        if isinstance(held_until, datetime) and as_utc(held_until) > as_utc(now):
            return None
        etag = _replace(client, entity, str(current.metadata["etag"]))
        if etag is not None:
            return Lease(key, owner, expires, etag)
    raise ConcurrencyError(f"lease {key!r} kept changing under contention; retry later")


def renew_lease(table: LazyTable, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
    """Extend the lease to now + ttl on its ETag; ConcurrencyError when it is no longer held."""
    if lease.remaining(as_utc(now)) <= timedelta(0):
        raise _lost(lease.key)  # expired: another worker may hold it by its own clock
    expires = as_utc(now) + ttl
    etag = _replace(table.client(), _entity(lease.key, lease.owner, expires), lease.etag)
    if etag is None:
        raise _lost(lease.key)
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


def _replace(client: TableClient, entity: dict[str, Any], etag: str) -> str | None:
    """Replace the row if it still has `etag`; its new ETag, or None when it changed or is gone."""
    from azure.core import MatchConditions
    from azure.data.tables import UpdateMode

    try:
        with sdk_errors(f"replace lease row {entity['RowKey']}"):
            written = client.update_entity(
                entity,
                mode=UpdateMode.REPLACE,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
    except (ConcurrencyError, NotFoundError):
        return None
    return str(written["etag"])
