"""ACR's own events (Event Grid system topic on each managed registry): ImagePushed, ImageDeleted.

Both schemas are read; the CloudEvents sample's non-standard `specVersion` key is accepted, since
envelope keys are compared case-insensitively.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath
from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope

__all__ = ["REGISTRY_TYPE", "RegistryEventKind", "RegistryImageEvent", "parse_registry_event"]

REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"


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
    if not registry.is_type(REGISTRY_TYPE):
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
