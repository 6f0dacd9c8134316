"""The journal's and the report store's history reads (part of the Journal and ReportStore
ports, `shared/ports.py`): bounded by a start time, newest first, paginated by an opaque cursor,
so a window of days reads only the day partitions it covers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.domain.history import RecordedFinding
from shared.domain.plans import Outcome

__all__ = ["HistoryJournal", "OutcomePage", "ReportHistory"]


@dataclass(frozen=True, slots=True)
class OutcomePage:
    """One page of outcomes, newest first; `cursor` reads the next page (None: no more)."""

    outcomes: list[Outcome]
    cursor: str | None


class HistoryJournal(Protocol):
    def outcome_page(
        self, *, since: datetime, limit: int, cursor: str | None = None
    ) -> OutcomePage:
        """Outcomes at or after `since`, newest first, at most `limit`, from `cursor` (a page's
        own, None for the first page). A cursor the journal did not give is InvalidInputError."""
        ...

    def recorded_findings(
        self, *, since: datetime | None = None, limit: int = 100
    ) -> list[RecordedFinding]:
        """Findings newest first with when and by which signal they were recorded."""
        ...


class ReportHistory(Protocol):
    def reports_since(self, since: datetime, *, limit: int) -> list[Mapping[str, Any]]:
        """Reports finished at or after `since`, newest first, at most `limit`."""
        ...
