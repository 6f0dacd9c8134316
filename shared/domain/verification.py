"""Provisional verification: a change is verified by ACR's read-back, which may lag behind it.

ACR evaluates a credential set's `credentialHealth` on its own schedule (it can read Healthy while
pulls fail, and stay Unhealthy after a fix), and Azure RBAC can take up to 10 minutes to apply a
role assignment. So a change whose read-back is not Healthy yet is not failed, and certainly not
succeeded: it is *pending verification*, re-checked with back-off until the window closes, then
recorded as verified (succeeded) or failed. This module holds the rules; the journal keeps the
`PendingVerification` records and `shared/services/verification.py` works through them.

A puller's grant (AcrPull, or the repository reader role) has no credential set to read: it is
verified by reading the role assignment back (`ExpectedAssignment`: the same id, principal, role,
scope and condition) on every check, and concluded once RBAC's propagation window has passed with
the read-back still agreeing; it fails at the first check that finds it gone or changed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.domain.models import RoleAssignment
from shared.domain.plans import ActionKind
from shared.domain.triggers import RECHECK_SCHEDULE

__all__ = [
    "FIRST_RECHECK",
    "MAX_RECHECK_INTERVAL",
    "RBAC_PROPAGATION",
    "RECHECK_SCHEDULE",
    "VERIFICATION_WINDOW",
    "ExpectedAssignment",
    "PendingVerification",
    "Verdict",
    "judge",
    "judge_assignment",
    "verification_key",
]

VERIFICATION_WINDOW = timedelta(minutes=15)  # RBAC's documented "up to 10 minutes", and margin
RBAC_PROPAGATION = timedelta(minutes=10)  # "up to 10 minutes for changes to take effect"
FIRST_RECHECK = timedelta(seconds=30)
MAX_RECHECK_INTERVAL = timedelta(minutes=4)


class Verdict(StrEnum):
    VERIFIED = "verified"  # the read-back is Healthy (or the assignment held): the change took
    FAILED = "failed"  # the window closed still not Healthy, or the assignment vanished/changed
    RECHECK = "recheck"  # not Healthy yet (or still propagating), the window is open: look again


def verification_key(signal_id: str, action: ActionKind, resource: str) -> str:
    """The one pending verification of an action applied for a signal (resource ids compare
    case-insensitively)."""
    return f"{signal_id}|{action.value}|{resource.lower()}"


@dataclass(frozen=True, slots=True)
class ExpectedAssignment:
    """The role assignment a grant made, as its read-back must show it."""

    id: str  # the assignment's name (a GUID)
    scope: str
    principal_id: str
    role_definition_id: str  # the role's GUID
    condition: str | None = None

    @classmethod
    def of(cls, assignment: RoleAssignment) -> ExpectedAssignment:
        return cls(
            assignment.id.lower(), str(assignment.scope), assignment.principal_id.lower(),
            assignment.role_definition_id.lower(), assignment.condition or None,
        )  # fmt: skip

    def disagreement(self, found: RoleAssignment | None) -> str | None:
        """What the read-back `found` (None: no assignment of that id) gets wrong; None when it
        is the assignment expected."""
        if found is None:
            return f"role assignment {self.id} no longer exists at {self.scope}"
        checks = (
            ("principal", found.principal_id.lower(), self.principal_id),
            ("role", found.role_definition_id.lower(), self.role_definition_id),
            ("scope", str(found.scope).lower(), self.scope.lower()),
            ("condition", found.condition or None, self.condition),
        )
        for what, now, wanted in checks:
            if now != wanted:
                return f"role assignment {self.id} now has {what} {now!r}, not {wanted!r}"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "scope": self.scope, "principalId": self.principal_id,
            "roleDefinitionId": self.role_definition_id, "condition": self.condition,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExpectedAssignment:
        condition = data.get("condition")
        return cls(
            str(data["id"]), str(data["scope"]), str(data["principalId"]),
            str(data["roleDefinitionId"]), str(condition) if condition else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PendingVerification:
    """An applied change waiting for Azure to confirm it: which action, for which signal, what
    verifies it (the health of a credential set, or the read-back of a role assignment), when it
    was applied and when to look next."""

    signal_id: str
    action: ActionKind
    resource: str  # the action's resource: the outcome is recorded against it
    credential_set: str | None  # the credential set whose credentialHealth verifies the change
    reason: str  # the action's reason, carried into the verified or failed outcome
    applied_at: datetime
    next_check_at: datetime
    checks: int = 0  # re-checks made so far
    assignment: ExpectedAssignment | None = None  # a puller's grant: read back, then wait

    @classmethod
    def start(
        cls,
        signal_id: str,
        action: ActionKind,
        resource: str,
        credential_set: str | None,
        reason: str,
        *,
        at: datetime,
        assignment: ExpectedAssignment | None = None,
    ) -> PendingVerification:
        """A verification opened at `at`, first re-checked FIRST_RECHECK later."""
        return cls(
            signal_id, action, resource, credential_set, reason, at, at + FIRST_RECHECK,
            assignment=assignment,
        )  # fmt: skip

    @property
    def key(self) -> str:
        return verification_key(self.signal_id, self.action, self.resource)

    @property
    def deadline(self) -> datetime:
        """When the window closes: a check at or after it concludes the verification (for a
        role assignment's read-back, when RBAC's propagation window has passed)."""
        window = VERIFICATION_WINDOW if self.assignment is None else RBAC_PROPAGATION
        return self.applied_at + window

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
        data: dict[str, Any] = {
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
        if self.assignment is not None:
            data["assignment"] = self.assignment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingVerification:
        """Rebuild from `to_dict`; KeyError, ValueError or TypeError when malformed."""
        credential_set, assignment = data["credentialSet"], data.get("assignment")
        return cls(
            signal_id=str(data["signalId"]),
            action=ActionKind(data["action"]),
            resource=str(data["resource"]),
            credential_set=str(credential_set) if credential_set is not None else None,
            reason=str(data["reason"]),
            applied_at=datetime.fromisoformat(str(data["appliedAt"])),
            next_check_at=datetime.fromisoformat(str(data["nextCheckAt"])),
            checks=int(data["checks"]),
            assignment=ExpectedAssignment.from_dict(assignment) if assignment else None,
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


def judge_assignment(
    pending: PendingVerification, disagreement: str | None, now: datetime
) -> Verdict:
    """What a check at `now` concludes from a role assignment's read-back (`disagreement`: what
    it gets wrong, None when it agrees). A read-back that disagrees fails at once (a vanished or
    changed assignment will not start working by waiting); one that agrees verifies only once
    the propagation window has passed, since Azure may not honour the assignment before."""
    if disagreement is not None:
        return Verdict.FAILED
    return Verdict.VERIFIED if now >= pending.deadline else Verdict.RECHECK
