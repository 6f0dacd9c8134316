"""The CLI's deadline: a command stops after `RUN_TIMEOUT`, as an invocation does at the host's
`functionTimeout` (the arithmetic: shared/domain/time_budgets.py, docs/operations.md).

A stopped command unwinds (DeadlineExceeded, a SystemExit with the error status 2), so its leases and claims are released on the way out; a
write it had not sent by then is never sent. Only the main thread can take signals: elsewhere
(and where there is no SIGALRM) the command runs without the deadline.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from types import FrameType

__all__ = ["DeadlineExceeded", "deadline"]


class DeadlineExceeded(SystemExit):
    """The command ran past its deadline: exit status 2, like every other failure."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


@contextmanager
def deadline(limit: timedelta) -> Iterator[None]:
    """Stop the block with DeadlineExceeded once `limit` has passed."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return
    seconds = max(1, int(limit.total_seconds()))

    def stop(signum: int, frame: FrameType | None) -> None:
        raise DeadlineExceeded(f"the command ran past its {seconds} s deadline; stopped")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
