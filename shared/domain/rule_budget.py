"""The budgets of cache rules that signals may create, as pure arithmetic.

Two budgets are spent for every rule a signal creates: the signal's own (`MAX_RULES_PER_SIGNAL`;
an alert is one signal however many repositories it names) and the registry's for the current
UTC hour (`MAX_RULES_PER_REGISTRY_HOUR`, all signals together). A rule over either budget is
deferred: recorded and reported, not created. ACR's own limit of 1,000 rules per registry is
checked separately (`shared/domain/cache_rules.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["HOUR", "SIGNAL_BUDGET_TTL", "Deferral", "registry_window", "signal_budget_key"]

HOUR = timedelta(hours=1)
SIGNAL_BUDGET_TTL = timedelta(days=2)  # as long as a completed claim: a redelivery finds it spent


@dataclass(frozen=True, slots=True)
class Deferral:
    """Why a rule was not created now; `retry_at` is when the registry's budget refills (None:
    the signal's own budget is spent, so only a new signal can ask again)."""

    reason: str
    retry_at: datetime | None = None

    def retry_after(self, now: datetime) -> int | None:
        """Whole seconds from `now` until `retry_at` (at least 1), or None."""
        if self.retry_at is None:
            return None
        return max(1, int((self.retry_at - now).total_seconds() + 0.999))


def signal_budget_key(signal_group: str) -> str:
    """The journal key of one signal's rule budget."""
    return f"rules-per-signal:{signal_group}"


def registry_window(registry: str, now: datetime) -> tuple[str, datetime]:
    """The journal key of the registry's rule budget for the UTC hour of `now`, and when that
    hour ends (the budget refills then)."""
    start = now.replace(minute=0, second=0, microsecond=0)
    return f"rules-per-hour:{registry.lower()}:{start:%Y%m%d%H}", start + HOUR
