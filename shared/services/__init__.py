"""Use cases: scope -> observe -> plan -> apply, verify, record. One code path per reaction,
shared by event triggers, timers and the HTTP API; signals enter through `reactions.react`."""

from shared.services.context import Context
from shared.services.credential_sets import sync_credential_set
from shared.services.reactions import react
from shared.services.results import Reaction, ReactionStatus

__all__ = ["Context", "Reaction", "ReactionStatus", "react", "sync_credential_set"]
