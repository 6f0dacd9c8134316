"""Signals: every source of events cachekeeper reacts to, in one table.

A source is one Event Grid subscription and the trigger function behind it: the event types it
accepts, the parser from envelope to signal (`shared/signals/<source>.py`), and the prefix of its
idempotency keys. The triggers (`functions/events.py`), the Event Grid wiring checks and the
reactions (`shared/services/reactions.py`, which maps each event type to its reaction) all derive
from `SOURCES`. Adding a source is a parser module and a row here; adding an event type to a
source is its enum member, its parser branch and a row in the reaction table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from shared.signals.envelope import Envelope
from shared.signals.keyvault import KeyVaultEventKind, KeyVaultSignal, parse_keyvault_signal
from shared.signals.pull_failures import PULL_FAILED, PullFailure, parse_pull_failed
from shared.signals.registry import RegistryEventKind, RegistryImageEvent, parse_registry_event
from shared.signals.repository_requests import (
    REPOSITORY_REQUESTED,
    RepositoryRequest,
    parse_repository_requested,
)

__all__ = [
    "KEY_VAULT",
    "PULL_FAILURES",
    "REGISTRY",
    "REPOSITORY_REQUESTS",
    "SOURCES",
    "SignalSource",
    "source_named",
]

Topic = Literal["keyVault", "registry", "custom"]


@dataclass(frozen=True, slots=True)
class SignalSource:
    """One source of events: where they come from and how they are read."""

    name: str  # the prefix of its idempotency keys: `<name>:<event id>`
    function: str  # the Event Grid-triggered function that receives them
    topic: Topic  # the kind of Event Grid topic (system topic of a vault or registry, or ours)
    event_types: tuple[str, ...]
    label: str  # how a rejection names a malformed event: "malformed <label>: ..."
    unreadable: str  # the resource a rejection of an unreadable event is recorded against
    parse: Callable[[Envelope], Any]  # envelope -> signal; InvalidInputError when unusable
    resource: Callable[[Any], str]  # what the journal's claim names for a signal

    def key(self, event_id: str) -> str:
        """The idempotency key of one event of this source."""
        return f"{self.name}:{event_id}"


def _keyvault_resource(signal: KeyVaultSignal) -> str:
    return signal.topic


def _registry_resource(signal: RegistryImageEvent) -> str:
    return str(signal.registry)


def _pull_failure_resource(signal: PullFailure) -> str:
    return f"{signal.registry.name}/{signal.repository}"


def _request_resource(signal: RepositoryRequest) -> str:
    return signal.label


KEY_VAULT = SignalSource(
    "keyvault", "on_keyvault_event", "keyVault", tuple(k.value for k in KeyVaultEventKind),
    "Key Vault event", "keyvault-event", parse_keyvault_signal, _keyvault_resource,
)  # fmt: skip
REGISTRY = SignalSource(
    "acr", "on_registry_event", "registry", tuple(k.value for k in RegistryEventKind),
    "registry event", "registry-event", parse_registry_event, _registry_resource,
)  # fmt: skip
PULL_FAILURES = SignalSource(
    "pullfailed", "on_pull_failure", "custom", (PULL_FAILED,),
    "PullFailed event", "pull-failed-event", parse_pull_failed, _pull_failure_resource,
)  # fmt: skip
REPOSITORY_REQUESTS = SignalSource(
    "repository-requested", "on_repository_requested", "custom", (REPOSITORY_REQUESTED,),
    "RepositoryRequested event", "repository-requested-event", parse_repository_requested, _request_resource,
)  # fmt: skip

SOURCES: tuple[SignalSource, ...] = (KEY_VAULT, REGISTRY, PULL_FAILURES, REPOSITORY_REQUESTS)


def source_named(name: str) -> SignalSource:
    """The source with this name (KeyError when there is none)."""
    return {s.name: s for s in SOURCES}[name]
