"""The fleet over the last days, as the dashboard draws it and `GET /api/history` answers: the
audits' findings (open, resolved), the actions per day by kind, each credential set's rotations.

The journal is read page by page from the window's first day (only its day partitions), at most
`MAX_OUTCOMES` outcomes; more than that is reported as `truncated`, never silently dropped."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from shared.domain.history import actions_per_day, audit_series, rotation_history, window_days
from shared.domain.plans import Outcome
from shared.errors import InvalidInputError
from shared.services.context import Context

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "history_view"]

DEFAULT_DAYS = 7
MAX_DAYS = 31
PAGE = 1000
MAX_OUTCOMES = 50_000
MAX_REPORTS = 1000  # an hourly audit for 31 days is 744


def _outcomes(ctx: Context, since: datetime) -> tuple[list[Outcome], bool]:
    found: list[Outcome] = []
    cursor: str | None = None
    while True:
        page = ctx.journal.outcome_page(since=since, limit=PAGE, cursor=cursor)
        found.extend(page.outcomes)
        cursor = page.cursor
        if cursor is None:
            return found, False
        if len(found) >= MAX_OUTCOMES:
            return found, True


def history_view(ctx: Context, *, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """The last `days` UTC days (today included), oldest first where it is a series."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be from 1 to {MAX_DAYS}")
    now = ctx.clock.now()
    window = window_days(now, days)
    since = datetime.combine(window[0], time.min, tzinfo=UTC)
    outcomes, truncated = _outcomes(ctx, since)
    reports = ctx.reports.reports_since(since, limit=MAX_REPORTS) if ctx.reports else []
    return {
        "days": days,
        "since": since.isoformat(),
        "until": (since + timedelta(days=days)).isoformat(),
        "audits": audit_series(reports),
        "actionsPerDay": actions_per_day(outcomes, window),
        "rotations": rotation_history(outcomes),
        "outcomesRead": len(outcomes),
        "truncated": truncated or len(reports) >= MAX_REPORTS,
    }
