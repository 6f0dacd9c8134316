"""Event Grid triggers: one function per signal source in `shared.signals.SOURCES`.

Each receives its source's events (Event Grid schema or CloudEvents 1.0, as its subscription in
infra/events.json delivers them) and hands them to `react()`. Transient failures raise, so Event
Grid redelivers; everything else is recorded and acknowledged. Then the events the reaction
queued are published (shared/services/event_publisher.py), whatever the reaction's result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import azure.functions as func

from functions._events import event_to_json
from shared.signals import SOURCES, SignalSource

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _trigger(source: SignalSource) -> Callable[[func.EventGridEvent, func.Context], None]:
    # `context` is the worker's invocation context (the host passes it by that name)
    def trigger(event: func.EventGridEvent, context: func.Context) -> None:
        from shared.bootstrap import context as use_case_context
        from shared.domain.documents import escaped
        from shared.log_context import function_invocation
        from shared.observability import record_event
        from shared.services.event_publisher import publish_pending
        from shared.services.reactions import react

        payload = event_to_json(event)
        event_id = payload.get("id")
        event_id = escaped(event_id) if isinstance(event_id, str) else None
        with function_invocation(context, event_id=event_id):
            ctx = use_case_context()
            try:
                record_event(log, payload, react(source, payload, ctx))
            finally:
                publish_pending(ctx)  # what the reaction queued; never raises

    trigger.__name__ = trigger.__qualname__ = source.function
    return trigger


for _source in SOURCES:
    bp.function_name(_source.function)(bp.event_grid_trigger(arg_name="event")(_trigger(_source)))
