"""Provisional verification: a change is verified by ACR's read-back, which may lag behind it.

ACR evaluates a credential set's `credentialHealth` on its own schedule (it can read Healthy while
pulls fail, and stay Unhealthy after a fix), and Azure RBAC can take up to 10 minutes to apply a
role assignment. So a change whose read-back is not Healthy yet is not failed, and certainly not
succeeded: it is *pending verification*, re-checked with back-off until the window closes, then
recorded as verified (succeeded) or failed. This module holds the rules; the journal keeps the
`PendingVerification` records and `shared/services/verification.py` works through them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.domain.plans import ActionKind

__all__ = [
    "FIRST_RECHECK",
    "MAX_RECHECK_INTERVAL",
    "RECHECK_SCHEDULE",
    "VERIFICATION_WINDOW",
    "PendingVerification",
    "Verdict",
    "judge",
    "verification_key",
]

VERIFICATION_WINDOW = timedelta(minutes=15)  # RBAC's documented "up to 10 minutes", and margin
FIRST_RECHECK = timedelta(seconds=30)
MAX_RECHECK_INTERVAL = timedelta(minutes=4)
# The verification timer's NCRONTAB schedule: every minute, on the minute (a finer grain than
# FIRST_RECHECK is pointless, since a timer run finds every check that fell due since the last)
RECHECK_SCHEDULE = "0 * * * * *"


class Verdict(StrEnum):
    VERIFIED = "verified"  # the read-back is Healthy: the change did what it was for
    FAILED = "failed"  # the window closed and the read-back is still not Healthy
    RECHECK = "recheck"  # not Healthy yet, the window is open: look again later


def verification_key(signal_id: str, action: ActionKind, resource: str) -> str:
    """The one pending verification of an action applied for a signal (resource ids compare
    case-insensitively)."""
    return f"{signal_id}|{action.value}|{resource.lower()}"


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """An applied change waiting for ACR to confirm it: which action, for which signal, the
    credential set whose health verifies it, when it was applied and when to look next."""

    signal_id: str
    action: ActionKind
    resource: str  # the action's resource: the outcome is recorded against it
    credential_set: str  # the credential set whose credentialHealth verifies the change
    reason: str  # the action's reason, carried into the verified or failed outcome
    applied_at: datetime
    next_check_at: datetime
    checks: int = 0  # re-checks made so far

    @classmethod
    def start(
        cls,
        signal_id: str,
        action: ActionKind,
        resource: str,
        credential_set: str,
        reason: str,
        *,
        at: datetime,
    ) -> PendingVerification:
        """A verification opened at `at`, first re-checked FIRST_RECHECK later."""
        return cls(signal_id, action, resource, credential_set, reason, at, at + FIRST_RECHECK)

    @property
    def key(self) -> str:
        return verification_key(self.signal_id, self.action, self.resource)

    @property
    def deadline(self) -> datetime:
        """When the window closes: a check at or after it concludes the verification."""
        return self.applied_at + VERIFICATION_WINDOW

    def is_due(self, now: datetime) -> bool:
        return self.next_check_at <= now

    def rescheduled(self, now: datetime) -> PendingVerification:
        """The same verification after one more unsuccessful check at `now`: the next check
        doubles the interval (FIRST_RECHECK, 60 s, 120 s, 240 s, then every MAX_RECHECK_INTERVAL),
        and the last one falls on the deadline."""
        interval = min(FIRST_RECHECK * 2 ** (self.checks + 1), MAX_RECHECK_INTERVAL)
        return replace(
            self, checks=self.checks + 1, next_check_at=min(now + interval, self.deadline)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "signalId": self.signal_id,
            "action": self.action.value,
            "resource": self.resource,
            "credentialSet": self.credential_set,
            "reason": self.reason,
            "appliedAt": self.applied_at.isoformat(),
            "nextCheckAt": self.next_check_at.isoformat(),
            "deadline": self.deadline.isoformat(),
            "checks": self.checks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingVerification:
        """Rebuild from `to_dict`; KeyError, ValueError or TypeError when malformed."""
        return cls(
            signal_id=str(data["signalId"]),
            action=ActionKind(data["action"]),
            resource=str(data["resource"]),
            credential_set=str(data["credentialSet"]),
            reason=str(data["reason"]),
            applied_at=datetime.fromisoformat(str(data["appliedAt"])),
            next_check_at=datetime.fromisoformat(str(data["nextCheckAt"])),
            checks=int(data["checks"]),
        )


def judge(pending: PendingVerification, health: str | None, now: datetime) -> Verdict:
    """What a check at `now` concludes from the credential set's health (None: the set is gone).
    Only Healthy verifies; anything else fails once the window has closed. A check made late
    (no timer ran within the window) still verifies a Healthy read-back: a later audit may finish
    the job, and the change did take effect."""
    if health == "Healthy":
        return Verdict.VERIFIED
    if health is None or now >= pending.deadline:
        return Verdict.FAILED
    return Verdict.RECHECK
