"""The journal's backlog records: signals waiting on a claim another worker holds
(shared/services/pull_backlog.py) and budgets spent one unit at a time
(shared/services/rule_budget.py).

Part of the Journal port, kept apart from shared/ports.py; `Journal` extends both Protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ["BudgetJournal", "PendingJournal", "PendingSignal"]


@dataclass(frozen=True, slots=True)
class PendingSignal:
    """The newest signal that arrived while the claim `key` was held by another worker.

    `payload` is the signal as its owner serialised it; `version` identifies the row as it was
    read (an ETag), so dropping it after handling leaves a newer signal that replaced it."""

    key: str
    signal_id: str
    payload: str
    at: datetime
    version: str = ""


class PendingJournal(Protocol):
    """Signals kept for the holder of a claim to handle once it is done."""

    def keep_pending(self, pending: PendingSignal) -> None:
        """Insert or replace the pending signal of `pending.key` (the newest one wins)."""
        ...

    def pending_signal(self, key: str) -> PendingSignal | None:
        """The pending signal of the claim `key`, with its version; None when there is none."""
        ...

    def drop_pending(self, pending: PendingSignal) -> bool:
        """Delete the pending signal if it is still the version read (True; also when it is
        gone already); False when a newer one replaced it, which is kept."""
        ...

    def pending_signals(self, *, limit: int = 100) -> list[PendingSignal]:
        """Every pending signal (at most `limit`), oldest first."""
        ...


class BudgetJournal(Protocol):
    """Counters that two workers cannot both push past their limit."""

    def spend(self, key: str, *, limit: int, now: datetime, ttl: timedelta) -> bool:
        """Take one unit of the budget `key`: True when fewer than `limit` were taken (the count
        grows by one, conditionally on the row not having changed since it was read), False
        when it is used up. A budget starts at zero and is forgotten `ttl` after it started."""
        ...

    def refund(self, key: str, *, now: datetime) -> None:
        """Give one unit back (a spend whose work did not happen); never below zero."""
        ...
