"""Timer triggers declared once: `@scheduled` registers the Functions timer trigger and runs each
tick in the invocation's log scope (its invocation id and the host's trace, `shared.log_context`), so every record the
tick writes, helper threads included, carries it.

    @scheduled(bp, "audit_timer", schedule="%AUDIT_SCHEDULE%")
    def audit_timer(timer: func.TimerRequest) -> None: ...

With `enqueue=(queue, connection)` the handler returns the messages to put on that queue, which
the host writes through a queue output binding once the tick has succeeded (nothing is written
when it fails).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import TypeVar

import azure.functions as func

from shared.log_context import function_invocation

__all__ = ["scheduled"]

Tick = TypeVar("Tick", bound=Callable[[func.TimerRequest], object])


def scheduled(
    bp: func.Blueprint, name: str, *, schedule: str, enqueue: tuple[str, str] | None = None
) -> Callable[[Tick], Tick]:
    """Register the handler as timer function `name` on `schedule` (NCrontab, or %SETTING%),
    with the schedule monitor and never on start-up."""

    def register(handler: Tick) -> Tick:
        def trigger(timer: func.TimerRequest, context: func.Context) -> None:
            with function_invocation(context):
                handler(timer)

        def enqueuing(
            timer: func.TimerRequest,
            context: func.Context,
            work: func.Out[typing.List[str]],  # noqa: UP006 - the worker accepts typing.List only
        ) -> None:
            with function_invocation(context):
                messages = handler(timer)
            if isinstance(messages, list) and messages:
                work.set([str(m) for m in messages])

        # The worker binds the trigger by `timer` and hands the invocation context as `context`.
        chosen = trigger if enqueue is None else enqueuing
        chosen.__name__ = chosen.__qualname__ = name
        chosen.__module__, chosen.__doc__ = handler.__module__, handler.__doc__
        registered = bp.timer_trigger(
            arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=True
        )(chosen)
        if enqueue is not None:
            queue, connection = enqueue
            registered = bp.queue_output(arg_name="work", queue_name=queue, connection=connection)(
                registered
            )
        bp.function_name(name)(registered)
        return handler

    return register
