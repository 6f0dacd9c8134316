"""The CloudEvents cachekeeper publishes about itself (pure: no I/O, no SDK).

Four types, each with a JSON Schema in docs/events/: `cachekeeper.ActionApplied` (a change was
applied: it succeeded, or it awaits verification), `cachekeeper.VerificationFailed` (a change's
read-back disagreed, or its verification ran out of time), `cachekeeper.FindingRaised` (a
reaction recorded a finding, or an audit found one the previous audit had not) and
`cachekeeper.FindingResolved` (an audit no longer finds what the previous one did).

An event's id is derived from what it is about, never random: the same applied action gives the
same id however often its outcome is recorded or its publish retried, so a subscriber can drop
repeats by id. An action's id leaves out the outcome's phase, so an action that went through
`pending-verification` and then succeeded is still announced once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.plans import Finding, Outcome, OutcomeStatus
from shared.domain.triggers import OUTBOX_SCHEDULE

__all__ = [
    "ACTION_APPLIED",
    "EVENT_SOURCE",
    "EVENT_TYPES",
    "FINDING_RAISED",
    "FINDING_RESOLVED",
    "MAX_BATCH_BYTES",
    "MAX_EVENT_BYTES",
    "OUTBOX_SCHEDULE",
    "VERIFICATION_FAILED",
    "ProductEvent",
    "action_applied",
    "batches",
    "finding_raised",
    "finding_resolved",
    "verification_failed",
]

ACTION_APPLIED = "cachekeeper.ActionApplied"
VERIFICATION_FAILED = "cachekeeper.VerificationFailed"
FINDING_RAISED = "cachekeeper.FindingRaised"
FINDING_RESOLVED = "cachekeeper.FindingResolved"
EVENT_TYPES = (ACTION_APPLIED, VERIFICATION_FAILED, FINDING_RAISED, FINDING_RESOLVED)
EVENT_SOURCE = "/cachekeeper"
# Event Grid refuses an event above 1 MB (and a batch above 1 MB): docs/fidelity.md
MAX_EVENT_BYTES = 1_048_576
MAX_BATCH_BYTES = 1_048_576
_MAX_TEXT = 4_096  # a reason or message longer than this is cut: an event stays small
_APPLIED = (OutcomeStatus.SUCCEEDED, OutcomeStatus.PENDING_VERIFICATION)


@dataclass(frozen=True, slots=True)
class ProductEvent:
    """One CloudEvent 1.0 of ours, as the outbox keeps it and the topic receives it."""

    id: str
    type: str
    subject: str
    time: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_cloudevent(self) -> dict[str, Any]:
        """The CloudEvents 1.0 JSON form (structured mode)."""
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": EVENT_SOURCE,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "data": dict(self.data),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_cloudevent(), sort_keys=True, separators=(",", ":"))

    @property
    def size(self) -> int:
        """Bytes of its JSON form (what counts against Event Grid's limits)."""
        return len(self.to_json().encode("utf-8"))

    @classmethod
    def from_json(cls, text: str) -> ProductEvent:
        """Read back `to_json()`; ValueError/KeyError/TypeError when it is not one."""
        raw = json.loads(text)
        if raw.get("type") not in EVENT_TYPES:
            raise ValueError(f"not a cachekeeper event type: {raw.get('type')!r}")
        return cls(
            str(raw["id"]), str(raw["type"]), str(raw["subject"]),
            datetime.fromisoformat(str(raw["time"])), dict(raw["data"]),
        )  # fmt: skip


def _event_id(kind: str, *parts: str) -> str:
    return hashlib.sha256("|".join((kind, *parts)).encode("utf-8")).hexdigest()[:32]


def _cut(text: str | None) -> str | None:
    return text if text is None or len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _outcome_data(outcome: Outcome) -> dict[str, Any]:
    data = outcome.to_dict()
    data["reason"] = _cut(outcome.reason)
    return data


def action_applied(outcome: Outcome) -> ProductEvent | None:
    """The event of an applied action's outcome (succeeded or pending verification), else None."""
    if outcome.action is None or outcome.status not in _APPLIED:
        return None
    identity = (outcome.signal_id, outcome.action.value, outcome.resource.lower())
    return ProductEvent(
        _event_id(ACTION_APPLIED, *identity), ACTION_APPLIED, outcome.resource, outcome.at,
        _outcome_data(outcome),
    )  # fmt: skip


def verification_failed(outcome: Outcome) -> ProductEvent | None:
    """The event of a failed verification (a failed outcome of an action that ran), else None."""
    if outcome.action is None or outcome.status is not OutcomeStatus.FAILED:
        return None
    return ProductEvent(
        _event_id(VERIFICATION_FAILED, outcome.identity()), VERIFICATION_FAILED,
        outcome.resource, outcome.at, _outcome_data(outcome),
    )  # fmt: skip


def _finding_data(finding: Finding, origin: str) -> dict[str, Any]:
    data = finding.to_dict()
    data["message"] = _cut(finding.message)
    data["fix"] = _cut(finding.fix)
    data["signalId"] = origin
    return data


def finding_raised(finding: Finding, *, origin: str, at: datetime) -> ProductEvent:
    """A finding raised while handling signal `origin` (an event id or an audit id)."""
    return ProductEvent(
        _event_id(FINDING_RAISED, origin, finding.kind, finding.resource.lower()),
        FINDING_RAISED, finding.resource, at, _finding_data(finding, origin),
    )  # fmt: skip


def finding_resolved(finding: Finding, *, origin: str, at: datetime) -> ProductEvent:
    """A finding the audit `origin` no longer found."""
    return ProductEvent(
        _event_id(FINDING_RESOLVED, origin, finding.kind, finding.resource.lower()),
        FINDING_RESOLVED, finding.resource, at, _finding_data(finding, origin),
    )  # fmt: skip


def batches(
    events: Sequence[ProductEvent], *, limit: int = MAX_BATCH_BYTES
) -> list[list[ProductEvent]]:
    """The events in order, cut into JSON arrays of at most `limit` bytes each (an event too
    large for any batch is left out: the caller refuses it)."""
    found: list[list[ProductEvent]] = []
    current: list[ProductEvent] = []
    size = 2  # "[" and "]"
    for event in events:
        weight = event.size + 1  # its comma
        if weight + 2 > limit:
            continue
        if current and size + weight > limit:
            found.append(current)
            current, size = [], 2
        current.append(event)
        size += weight
    if current:
        found.append(current)
    return found
