"""The fleet over time, from the journal and the kept audit reports (pure): findings per audit
(open, and resolved since the audit before), actions per day by kind, and each credential set's
rotation history (which secret versions, when, by which signal)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.domain.plans import ActionKind, Finding, Outcome, OutcomeStatus

__all__ = [
    "ATTEMPTED",
    "RecordedFinding",
    "actions_per_day",
    "audit_series",
    "rotation_history",
    "window_days",
]

# An action counts for its day when it was attempted: applied (verified or not) or failed.
ATTEMPTED = frozenset(
    {OutcomeStatus.SUCCEEDED, OutcomeStatus.PENDING_VERIFICATION, OutcomeStatus.FAILED}
)
_ROTATIONS = frozenset({ActionKind.UPDATE_CREDENTIAL_SET, ActionKind.REFRESH_CREDENTIAL_SET})


@dataclass(frozen=True, slots=True)
class RecordedFinding:
    """A finding as the journal keeps it: when, and while handling which signal."""

    finding: Finding
    signal_id: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return self.finding.to_dict() | {"signalId": self.signal_id, "at": self.at.isoformat()}


def window_days(now: datetime, days: int) -> list[date]:
    """The `days` UTC days ending today, oldest first."""
    today = now.date()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _finding_key(finding: Mapping[str, Any]) -> tuple[str, str]:
    return (str(finding.get("kind", "")), str(finding.get("resource", "")).lower())


def audit_series(reports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per report, oldest first: its open findings, and how many of the findings the audit
    before it (of the same registries) had are gone (resolved). The first report of a
    scope has no predecessor in the window: its resolved count is null."""
    ordered = sorted(reports, key=lambda r: str(r.get("finishedAt", "")))
    previous: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    series: list[dict[str, Any]] = []
    for report in ordered:
        scope = tuple(sorted(str(r) for r in report.get("registries") or ()))
        findings = [f for f in report.get("findings") or () if isinstance(f, Mapping)]
        keys = {_finding_key(f) for f in findings}
        before = previous.get(scope)
        counts = report.get("counts") or {}
        series.append(
            {
                "id": str(report.get("id")),
                "finishedAt": str(report.get("finishedAt")),
                "open": len(findings),
                "resolved": None if before is None else len(before - keys),
                "bySeverity": {
                    s: int(counts.get(s, 0)) for s in ("critical", "error", "warning", "info")
                },
            }
        )
        previous[scope] = keys
    return series


def actions_per_day(outcomes: Iterable[Outcome], days: Sequence[date]) -> list[dict[str, Any]]:
    """For each day, oldest first, the attempted actions by kind (every kind present, 0 or more)."""
    counts = {day: dict.fromkeys((k.value for k in ActionKind), 0) for day in days}
    for outcome in outcomes:
        if outcome.action is None or outcome.status not in ATTEMPTED:
            continue
        moment = outcome.at if outcome.at.tzinfo else outcome.at.replace(tzinfo=UTC)
        day = moment.astimezone(UTC).date()
        if day in counts:
            counts[day][outcome.action.value] += 1
    return [{"day": day.isoformat(), "byKind": counts[day]} for day in days]


def _version(uri: object) -> str | None:
    text = str(uri or "").rstrip("/")
    parts = text.split("/")
    # https://<vault>/secrets/<name>/<version>: a versionless URI has no version segment
    return parts[-1] if len(parts) >= 6 and parts[-3] == "secrets" else None


def rotation_history(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    """Each credential set's successful moves to other secret versions, newest first, by set."""
    by_set: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        if outcome.action not in _ROTATIONS or outcome.status is not OutcomeStatus.SUCCEEDED:
            continue
        after, before = dict(outcome.after), dict(outcome.before)
        by_set.setdefault(outcome.resource, []).append(
            {
                "at": outcome.at.isoformat(),
                "signalId": outcome.signal_id,
                "action": outcome.action.value,
                "username": {"from": _version(before.get("username")),
                             "to": _version(after.get("username"))},
                "password": {"from": _version(before.get("password")),
                             "to": _version(after.get("password"))},
            }
        )  # fmt: skip
    return [
        {"credentialSet": resource, "rotations": sorted(rows, key=lambda r: r["at"], reverse=True)}
        for resource, rows in sorted(by_set.items())
    ]
