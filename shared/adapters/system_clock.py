"""The production clock: the real time, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SystemClock"]


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)
