"""A settable clock: real UTC time until a test pins it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def parse_time(value: datetime | str | float | int) -> datetime:
    """Turn an ISO 8601 string, Unix seconds or a datetime into an aware UTC datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Clock:
    """The sandbox's notion of now; pinned with `set`, moved with `advance`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pinned: datetime | None = None

    def now(self) -> datetime:
        """Current sandbox time (aware, UTC)."""
        with self._lock:
            return self._pinned if self._pinned is not None else datetime.now(UTC)

    def set(self, when: datetime | str | float) -> None:
        """Pin the clock at `when`; it stays there until moved."""
        with self._lock:
            self._pinned = parse_time(when)

    def advance(self, seconds: float = 0.0, *, days: float = 0.0) -> None:
        """Move the clock forward (pins it first if it was following real time)."""
        with self._lock:
            base = self._pinned if self._pinned is not None else datetime.now(UTC)
            self._pinned = base + timedelta(seconds=seconds, days=days)

    def advance_to(self, when: datetime) -> None:
        """Pin the clock at `when` unless it is already later: threads that wait for the same
        moment move it once, not once each."""
        with self._lock:
            base = self._pinned if self._pinned is not None else datetime.now(UTC)
            self._pinned = max(base, parse_time(when))

    def use_real_time(self) -> None:
        """Unpin: follow the real UTC clock again."""
        with self._lock:
            self._pinned = None

    @property
    def pinned(self) -> bool:
        """Whether the clock is pinned."""
        return self._pinned is not None
