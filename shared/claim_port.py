"""The journal's coordination records: signal claims (shared/services/once.py) and fenced leases
on one resource (shared/services/leases.py).

Part of the Journal port, kept apart from shared/ports.py, which re-exports `Claim`,
`ClaimStatus` and `Lease`; `Journal` extends `LeaseJournal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from shared.domain.plans import IdempotencyRecord

__all__ = ["Claim", "ClaimStatus", "Lease", "LeaseJournal"]


class ClaimStatus(StrEnum):
    NEW = "new"  # nobody handled this signal: go ahead
    DUPLICATE = "duplicate"  # already completed with the same payload: do nothing
    IN_PROGRESS = "in-progress"  # another worker holds an unexpired claim: retry later
    PAYLOAD_MISMATCH = "payload-mismatch"  # same id, different payload: refuse


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to a claim attempt. A NEW claim carries the attempt's own `token` (stored in the
    claim record, unique to this attempt) and `etag` (of the record as this attempt wrote it):
    completing and releasing act only on the record that is still this attempt's, and a write
    whose answer was lost is recognised by reading the record back and finding the token. A
    DUPLICATE claim carries the completed record's token and ETag, so that a caller that means to
    handle the key again (the pull-failure sweep) can release exactly that record."""

    status: ClaimStatus
    record: IdempotencyRecord
    token: str = ""
    etag: str = ""


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease: the token of this one acquisition, until when it is held, and the ETag of
    the lease row as this holder last wrote it (every renewal and release is conditional on it)."""

    key: str
    owner: str
    expires_at: datetime
    etag: str

    def remaining(self, now: datetime) -> timedelta:
        """How much longer the lease is held (negative once it expired)."""
        return self.expires_at - now


class LeaseJournal(Protocol):
    """Leases kept by the journal: owner-checked, ETag-conditional renewal and release."""

    def acquire_lease(self, key: str, *, owner: str, now: datetime, ttl: timedelta) -> Lease | None:
        """Take the lease `key` for `owner` (a token unique to this acquisition) until now + ttl;
        None while another holder's lease is unexpired. An expired lease is taken over."""
        ...

    def renew_lease(self, lease: Lease, *, now: datetime, ttl: timedelta) -> Lease:
        """Extend a held lease to now + ttl, conditional on the row still carrying `lease.etag`;
        ConcurrencyError when the lease expired, was taken over or released."""
        ...

    def release_lease(self, lease: Lease) -> None:
        """Delete the lease row only if it still carries `lease.etag` (this holder's row): a row
        another holder wrote since is left alone, and a missing one is fine."""
        ...
