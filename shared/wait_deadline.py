"""How long an invocation may wait out Azure's throttling: a deadline in a context variable.

`waits_until(deadline)` scopes a deadline to the code inside it (and to the helper threads of
`shared.services.context.fan_out`, which copy the caller's context); the SDK pipeline's pacing
(`shared/adapters/azure/pacing.py`) reads it with `wait_deadline()` before every wait and, rather
than wait past it, raises `ThrottleBudgetError`. Outside any scope a call waits at most
`CALL_BUDGET` (shared/domain/time_budgets.py) in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

__all__ = ["wait_deadline", "waits_until"]

_DEADLINE: ContextVar[datetime | None] = ContextVar("cachekeeper_wait_deadline", default=None)


@contextmanager
def waits_until(deadline: datetime) -> Iterator[None]:
    """Let the calls made inside the block wait out throttling until `deadline`, no later."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def wait_deadline() -> datetime | None:
    """The deadline of the current scope, or None outside any."""
    return _DEADLINE.get()
