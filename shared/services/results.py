"""What a reaction returns to its caller (a trigger, the HTTP API, a test)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.domain.plans import Outcome, Plan

__all__ = ["Ignored", "Reaction", "ReactionStatus"]


class ReactionStatus(StrEnum):
    APPLIED = "applied"  # the plan had actions and they were carried out
    NO_CHANGE = "no-change"  # state already right
    PLANNED = "planned"  # dry run: the plan, nothing applied
    DUPLICATE = "duplicate"  # the same event was already handled
    IGNORED = "ignored"  # out of scope (vault or registry not managed)
    REJECTED = "rejected"  # malformed or refused input; recorded and acknowledged
    REPORTED = "reported"  # findings recorded, nothing to change
    DEFERRED = "deferred"  # allowed, but over a rule budget: recorded, nothing created


@dataclass(frozen=True, slots=True)
class Reaction:
    status: ReactionStatus
    reason: str
    plan: Plan | None = None
    outcomes: tuple[Outcome, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "plan": self.plan.to_dict() | {"id": self.plan.id} if self.plan else None,
            "outcomes": [o.to_dict() for o in self.outcomes],
            **self.details,
        }


@dataclass(frozen=True, slots=True)
class Ignored:
    """Why a signal is out of scope: a reason code (for metrics), the reason, and the resource
    the outcome is recorded against."""

    code: str
    reason: str
    resource: str
