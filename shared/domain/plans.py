"""What cachekeeper decides and records: findings, actions, plans and outcomes.

A planner turns observed state into a `Plan` (pure); a dry run returns it; the service applies its
actions and writes one `Outcome` per action to the journal. Plans carry a fingerprint of the state
they were computed from, so "apply this plan" can refuse when the world moved on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.domain.actions import ActionPayload

__all__ = [
    "Action",
    "ActionKind",
    "Finding",
    "IdempotencyRecord",
    "IdempotencyStatus",
    "Outcome",
    "OutcomeStatus",
    "Plan",
    "Severity",
    "fingerprint",
]


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class ActionKind(StrEnum):
    UPDATE_CREDENTIAL_SET = "update-credential-set"
    REFRESH_CREDENTIAL_SET = "refresh-credential-set"
    CREATE_CACHE_RULE = "create-cache-rule"
    GRANT_SECRET_READ = "grant-secret-read"
    GRANT_PULL = "grant-pull"
    CREATE_CREDENTIAL_SET = "create-credential-set"
    DELETE_CREDENTIAL_SET = "delete-credential-set"
    MOVE_CACHE_RULE = "move-cache-rule"


class OutcomeStatus(StrEnum):
    SUCCEEDED = "succeeded"  # applied, and verified by ACR's read-back where there is one
    PENDING_VERIFICATION = "pending-verification"  # applied; the read-back is not Healthy yet
    FAILED = "failed"
    NO_CHANGE = "no-change"
    REJECTED = "rejected"
    IGNORED = "ignored"
    DEFERRED = "deferred"  # allowed, but over a rule budget: reported, asked again later


class IdempotencyStatus(StrEnum):
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something an operator should know, with the evidence and the fix a person would apply."""

    kind: str
    severity: Severity
    resource: str
    message: str
    fix: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity.value,
            "resource": self.resource,
            "message": self.message,
            "fix": self.fix,
            "evidence": dict(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One change to make in Azure, with the reason a person can read and what it changes
    (`shared/domain/actions.py`: one payload type per kind)."""

    kind: ActionKind
    resource: str
    reason: str
    changes: ActionPayload

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "resource": self.resource,
            "reason": self.reason,
            "changes": self.changes.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """Actions and findings computed from one observation of state."""

    scope: str
    actions: tuple[Action, ...] = ()
    findings: tuple[Finding, ...] = ()
    state_fingerprint: str = ""

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to change."""
        return not self.actions

    @property
    def id(self) -> str:
        """A stable id: the same state and the same decisions give the same plan id."""
        return fingerprint(
            {"scope": self.scope, "state": self.state_fingerprint, "plan": self.to_dict()}
        )[:24]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "actions": [a.to_dict() for a in self.actions],
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one resource in reaction to one signal; the journal keeps these."""

    signal_id: str
    resource: str
    status: OutcomeStatus
    reason: str
    at: datetime
    action: ActionKind | None = None
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)
    health: str | None = None

    def identity(self) -> str:
        """What makes this outcome one of a kind: the signal (its idempotency key), the action
        (or the signal's own closing outcome), the resource, and the phase (an action pending
        verification has a second outcome, its verdict). The journal keeps one per identity, so
        a retried reaction converges on exactly one outcome per event and action."""
        action = self.action.value if self.action is not None else "signal"
        pending = self.action is not None and self.status is OutcomeStatus.PENDING_VERIFICATION
        return "|".join(
            (self.signal_id, action, self.resource.lower(), "pending" if pending else "final")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "signalId": self.signal_id,
            "resource": self.resource,
            "status": self.status.value,
            "reason": self.reason,
            "at": self.at.isoformat(),
            "action": self.action.value if self.action else None,
            "before": dict(self.before),
            "after": dict(self.after),
            "health": self.health,
        }


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """Marks a signal as being or having been handled, keyed by its id, with a payload hash."""

    key: str
    payload_hash: str
    status: IdempotencyStatus
    expires_at: datetime
    result: Mapping[str, Any] = field(default_factory=dict)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


def fingerprint(value: Any) -> str:
    """SHA-256 of a canonical JSON rendering (sorted keys, no whitespace)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
