"""Event Grid events about registries: ACR's ImagePushed / ImageDeleted, and our own
`cachekeeper.RepositoryRequested`.

A push into a namespace that a policy row reserves for cached content (its targetTemplate maps
the repository back to an upstream the row allows) while no cache rule serves it is a finding:
ACR refuses a cache rule whose target repository already exists, so the future rule would fail.
Both schemas are read; the CloudEvents sample's non-standard `specVersion` key is accepted, since
envelope keys are compared case-insensitively.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.domain.cache_rules import find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.plans import Finding, Outcome, OutcomeStatus, Plan, Severity
from shared.domain.policies import upstream_for_target
from shared.domain.repositories import TargetPath
from shared.errors import InvalidEventError, InvalidInputError
from shared.events import Envelope
from shared.services.context import Context
from shared.services.credential_sets import record_findings
from shared.services.once import event_id_of, handle_once, reject_event
from shared.services.repositories import REPOSITORY_REQUESTED, parse_repository_request, request
from shared.services.results import Reaction, ReactionStatus

__all__ = [
    "RegistryEventKind",
    "RegistryImageEvent",
    "parse_registry_event",
    "react_to_registry_event",
    "react_to_repository_requested_event",
]

log = logging.getLogger(__name__)
_REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"


class RegistryEventKind(StrEnum):
    IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed"
    IMAGE_DELETED = "Microsoft.ContainerRegistry.ImageDeleted"


@dataclass(frozen=True, slots=True)
class RegistryImageEvent:
    """An image pushed to or deleted from a repository of a registry."""

    event_id: str
    kind: RegistryEventKind
    registry: ResourceId
    repository: TargetPath
    tag: str | None
    digest: str | None
    payload_hash: str


def parse_registry_event(envelope: Envelope) -> RegistryImageEvent:
    """The image event in an envelope; InvalidEventError when it is not a usable one."""
    try:
        kind = RegistryEventKind(envelope.type)
    except ValueError:
        raise InvalidEventError(f"event type {envelope.type!r} is not an ACR image event") from None
    try:
        registry = ResourceId.parse(envelope.source)
    except InvalidInputError as exc:
        raise InvalidEventError(f"topic/source is not a registry resource id: {exc}") from exc
    if not registry.is_type(_REGISTRY_TYPE):
        raise InvalidEventError(f"topic/source {envelope.source!r} is not a container registry")
    target = envelope.data.get("target")
    if not isinstance(target, Mapping):
        raise InvalidEventError("data.target must be an object")
    repository = target.get("repository")
    if not isinstance(repository, str):
        raise InvalidEventError("data.target.repository must be a string")
    try:
        path = TargetPath.parse(repository.strip().lower(), allow_wildcard=False)
    except InvalidInputError as exc:
        raise InvalidEventError(f"data.target.repository: {exc}") from exc
    tag, digest = target.get("tag"), target.get("digest")
    return RegistryImageEvent(
        envelope.id, kind, registry, path,
        tag[:128] if isinstance(tag, str) else None,
        digest[:100] if isinstance(digest, str) else None,
        envelope.payload_hash,
    )  # fmt: skip


def react_to_registry_event(event: Mapping[str, Any], ctx: Context) -> Reaction:
    """Handle one ImagePushed/ImageDeleted event (either schema). Transient errors propagate."""
    try:
        signal = parse_registry_event(Envelope.from_dict(event))
    except InvalidEventError as error:
        return reject_event(
            ctx, event_id_of(event), "registry-event", f"malformed registry event: {error}"
        )
    # claimed before the scope check, so a redelivered out-of-scope event is a duplicate too
    return handle_once(
        ctx,
        key=f"acr:{signal.event_id}",
        payload_hash=signal.payload_hash,
        signal_id=signal.event_id,
        resource=str(signal.registry),
        handle=lambda: _in_scope(ctx, signal),
    )


def _in_scope(ctx: Context, signal: RegistryImageEvent) -> Reaction:
    if ctx.settings.manages_registry(signal.registry):
        return _assess_push(ctx, signal)
    reason = f"registry {signal.registry} is not managed"
    ctx.journal.record_outcome(Outcome(signal.event_id, str(signal.registry), OutcomeStatus.IGNORED, reason, ctx.clock.now()))  # fmt: skip
    return Reaction(ReactionStatus.IGNORED, reason)


def _assess_push(ctx: Context, signal: RegistryImageEvent) -> Reaction:
    where = f"{signal.registry.name}/{signal.repository}"
    policies = [p.policy for p in ctx.policies.list_policies()]
    upstream = upstream_for_target(signal.repository, policies, registry=signal.registry.name)
    verb = "pushed to" if signal.kind is RegistryEventKind.IMAGE_PUSHED else "deleted from"
    if upstream is None or signal.kind is RegistryEventKind.IMAGE_DELETED:
        reason = f"image {verb} {where}" + (
            "" if upstream is None else f", reserved for {upstream}"
        )
        ctx.journal.record_outcome(Outcome(signal.event_id, where, OutcomeStatus.NO_CHANGE, reason, ctx.clock.now()))  # fmt: skip
        return Reaction(ReactionStatus.NO_CHANGE, reason)
    rule = find_serving_rule(signal.repository, ctx.registry.list_cache_rules(signal.registry))
    if rule is not None:
        # The namespace already belongs to a cache rule: this is cached content, not a blocker.
        reason = f"{where} is served by cache rule {rule.name}; the push is cached content"
        ctx.journal.record_outcome(Outcome(signal.event_id, where, OutcomeStatus.NO_CHANGE, reason, ctx.clock.now()))  # fmt: skip
        return Reaction(ReactionStatus.NO_CHANGE, reason)
    finding = Finding(
        "push-into-reserved-namespace", Severity.WARNING, where,
        f"an image was pushed to {where}, which the policy table reserves for cached {upstream}; "
        f"a cache rule for {upstream} will now fail because its target repository exists",
        f"push to another repository and delete {signal.repository}, or change the policy row's targetTemplate",
        {"tag": signal.tag, "digest": signal.digest, "upstream": str(upstream)},
    )  # fmt: skip
    record_findings(ctx, [finding], signal_id=signal.event_id)
    ctx.journal.record_outcome(Outcome(signal.event_id, where, OutcomeStatus.NO_CHANGE, finding.message, ctx.clock.now()))  # fmt: skip
    return Reaction(ReactionStatus.REPORTED, finding.message, Plan(where, (), (finding,)))


def react_to_repository_requested_event(event: Mapping[str, Any], ctx: Context) -> Reaction:
    """Handle a `cachekeeper.RepositoryRequested` event (docs/events/); malformed ones are
    recorded and acknowledged, transient errors propagate for redelivery."""
    event_id = event_id_of(event)
    try:
        envelope = Envelope.from_dict(event)
        if envelope.type != REPOSITORY_REQUESTED:
            raise InvalidEventError(f"event type {envelope.type!r} is not {REPOSITORY_REQUESTED}")
        # Unknown data fields (e.g. requestedBy) are tolerated, as in every envelope we read.
        data = {k: v for k, v in envelope.data.items() if k in ("registry", "upstream", "target")}
        registry = data.get("registry")
        if not isinstance(registry, str) or not registry.strip().startswith("/subscriptions/"):
            raise InvalidEventError("data.registry must be the registry's resource id")
        wanted = parse_repository_request(ctx, data)
    except InvalidInputError as error:
        reason = f"malformed RepositoryRequested event: {error}"
        return reject_event(ctx, event_id, "repository-requested-event", reason)
    return handle_once(
        ctx,
        key=f"repository-requested:{envelope.id}",
        payload_hash=envelope.payload_hash,
        signal_id=envelope.id,
        resource=str(wanted.upstream or wanted.target),
        handle=lambda: request(ctx, wanted, signal_id=envelope.id),
    )
