"""Use cases: scope -> observe -> plan -> apply, verify, record. One code path per reaction,
shared by event triggers, timers and the HTTP API."""

from shared.services.context import Context
from shared.services.credential_sets import sync_credential_set
from shared.services.keyvault_events import react_to_keyvault_event
from shared.services.results import Reaction, ReactionStatus

__all__ = [
    "Context",
    "Reaction",
    "ReactionStatus",
    "react_to_keyvault_event",
    "sync_credential_set",
]
