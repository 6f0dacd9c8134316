"""Event Grid trigger for ACR's own events (system topic on each managed registry):
ImagePushed and ImageDeleted. Transient failures raise, so Event Grid redelivers; everything else
is recorded and acknowledged."""

from __future__ import annotations

import logging

import azure.functions as func

from functions._events import event_to_json

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("on_registry_event")
@bp.event_grid_trigger(arg_name="event")
def on_registry_event(event: func.EventGridEvent) -> None:
    from shared.bootstrap import context
    from shared.observability import record_event
    from shared.services.registry_events import react_to_registry_event

    payload = event_to_json(event)
    reaction = react_to_registry_event(payload, context())
    record_event(log, payload, reaction)
