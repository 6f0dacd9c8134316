"""Event Grid trigger for Key Vault events (system topic on each managed vault).

Transient failures raise, so Event Grid redelivers; everything else is recorded and acknowledged.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions._events import event_to_json

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.function_name("on_keyvault_event")
@bp.event_grid_trigger(arg_name="event")
def on_keyvault_event(event: func.EventGridEvent) -> None:
    from shared.bootstrap import context
    from shared.services import react_to_keyvault_event

    reaction = react_to_keyvault_event(event_to_json(event), context())
    log.info("Key Vault event %s: %s (%s)", event.id, reaction.status.value, reaction.reason)
