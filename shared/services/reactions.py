"""The reaction table, and `react()`: what every signal goes through on its way to a reaction.

    parse (the envelope within the document limits, then the source's parser) -> reject what
    cannot be read -> claim once (the source's key)
    -> scope check -> the reaction for the signal's type -> record

`REACTIONS` maps each event type to its scope check and its reaction; `shared.signals.SOURCES`
says which function receives which types and how they are parsed. A reaction records its own
outcome through `shared.services.records`; everything before it (rejections, duplicates, signals
out of scope, permanent errors) is recorded here.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.plans import OutcomeStatus
from shared.errors import InvalidInputError
from shared.services.access_checks import recheck_vault_access
from shared.services.context import Context
from shared.services.keyvault_events import keyvault_scope, rotate_secret
from shared.services.once import event_id_of, handle_once, reject_event
from shared.services.pull_failures import diagnose_pull_failure
from shared.services.records import record_signal
from shared.services.registry_events import assess_image_event
from shared.services.repositories import request
from shared.services.results import Ignored, Reaction, ReactionStatus
from shared.signals import SignalSource
from shared.signals.envelope import Envelope
from shared.signals.keyvault import KeyVaultEventKind
from shared.signals.pull_failures import PULL_FAILED, parse_pull_failure_alert
from shared.signals.registry import RegistryEventKind
from shared.signals.repository_requests import REPOSITORY_REQUESTED

__all__ = ["IGNORED_SIGNALS", "REACTIONS", "Reactor", "dispatch", "react", "react_to_alert"]

log = logging.getLogger(__name__)

IGNORED_SIGNALS: Counter[str] = Counter()
"""Signals ignored as out of scope, by reason code (exposed for metrics and tests)."""


@dataclass(frozen=True, slots=True)
class Reactor:
    """What one event type does: its scope check (None: in scope) and its reaction."""

    scope: Callable[[Context, Any], Ignored | None]
    react: Callable[[Context, Any, str], Reaction]  # (context, signal, signal id)


def registry_scope(ctx: Context, signal: Any) -> Ignored | None:
    """A signal about a registry (`signal.registry`) is in scope when the registry is managed."""
    registry: ResourceId = signal.registry
    if ctx.settings.manages_registry(registry):
        return None
    return Ignored("registry-not-managed", f"registry {registry} is not managed", str(registry))


def _request(ctx: Context, wanted: Any, signal_id: str) -> Reaction:
    return request(ctx, wanted, signal_id=signal_id)


_ROTATION = Reactor(keyvault_scope, rotate_secret)
REACTIONS: Mapping[str, Reactor] = {
    KeyVaultEventKind.SECRET_NEW_VERSION: _ROTATION,
    KeyVaultEventKind.SECRET_NEAR_EXPIRY: _ROTATION,
    KeyVaultEventKind.SECRET_EXPIRED: _ROTATION,
    KeyVaultEventKind.ACCESS_POLICY_CHANGED: Reactor(keyvault_scope, recheck_vault_access),
    RegistryEventKind.IMAGE_PUSHED: Reactor(registry_scope, assess_image_event),
    RegistryEventKind.IMAGE_DELETED: Reactor(registry_scope, assess_image_event),
    PULL_FAILED: Reactor(registry_scope, diagnose_pull_failure),
    REPOSITORY_REQUESTED: Reactor(registry_scope, _request),
}


def react(source: SignalSource, event: Mapping[str, Any], ctx: Context) -> Reaction:
    """Handle one event of `source` (Event Grid or CloudEvents JSON). Transient errors propagate,
    so Event Grid redelivers; everything else is recorded and acknowledged."""
    try:
        envelope = Envelope.from_dict(event)
        signal = source.parse(envelope)
    except InvalidInputError as error:
        reason = f"malformed {source.label}: {error}"
        return reject_event(ctx, event_id_of(event), source.unreadable, reason)
    # claimed before the scope check, so a redelivered out-of-scope event is a duplicate too:
    # every event id gets exactly one terminal outcome
    return handle_once(
        ctx,
        key=source.key(envelope.id),
        payload_hash=envelope.payload_hash,
        signal_id=envelope.id,
        resource=source.resource(signal),
        handle=lambda: dispatch(ctx, envelope.type, signal, signal_id=envelope.id),
    )


def dispatch(ctx: Context, signal_type: str, signal: Any, *, signal_id: str) -> Reaction:
    """Check a parsed signal's scope and run the reaction for its type."""
    reactor = REACTIONS[signal_type]
    ignored = reactor.scope(ctx, signal)
    if ignored is None:
        return reactor.react(ctx, signal, signal_id)
    IGNORED_SIGNALS[ignored.code] += 1
    log.warning("ignoring %s %s: %s", signal_type, signal_id, ignored.reason)
    record_signal(ctx, signal_id, ignored.resource, OutcomeStatus.IGNORED, ignored.reason)
    return Reaction(ReactionStatus.IGNORED, ignored.reason)


def react_to_alert(payload: Any, ctx: Context) -> list[Reaction]:
    """A pull-failure alert (common alert schema): one PullFailed reaction per failing repository,
    each under a signal id made of the alert's and the repository's; a Resolved alert changes
    nothing. A malformed payload raises InvalidEventError (the caller answers 400)."""
    alert = parse_pull_failure_alert(payload)
    if not alert.fired:
        return [Reaction(ReactionStatus.NO_CHANGE, "the alert is resolved")]
    suffix = alert.alert_id.rsplit("/", 1)[-1]
    return [
        dispatch(ctx, PULL_FAILED, failure,
                 signal_id=f"alert-{suffix}-{failure.registry.name}-{failure.repository}")
        for failure in alert.failures
    ]  # fmt: skip
