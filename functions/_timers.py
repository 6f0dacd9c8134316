"""Timer triggers declared once: `@scheduled` registers the Functions timer trigger and runs each
tick in the invocation's log scope (its invocation id and the host's trace, `shared.log_context`), so every record the
tick writes, helper threads included, carries it.

    @scheduled(bp, "audit_timer", schedule="%AUDIT_SCHEDULE%")
    def audit_timer(timer: func.TimerRequest) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import azure.functions as func

from shared.log_context import function_invocation

__all__ = ["scheduled"]

Tick = TypeVar("Tick", bound=Callable[[func.TimerRequest], None])


def scheduled(bp: func.Blueprint, name: str, *, schedule: str) -> Callable[[Tick], Tick]:
    """Register the handler as timer function `name` on `schedule` (NCrontab, or %SETTING%),
    with the schedule monitor and never on start-up."""

    def register(handler: Tick) -> Tick:
        def trigger(timer: func.TimerRequest, context: func.Context) -> None:
            with function_invocation(context):
                handler(timer)

        # The worker binds the trigger by `timer` and hands the invocation context as `context`.
        trigger.__name__ = trigger.__qualname__ = name
        trigger.__module__, trigger.__doc__ = handler.__module__, handler.__doc__
        registered = bp.timer_trigger(
            arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=True
        )(trigger)
        bp.function_name(name)(registered)
        return handler

    return register
