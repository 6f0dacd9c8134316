"""Repository requests: a `cachekeeper.RepositoryRequested` CloudEvent (custom topic, schema in
docs/events/) or the body of `POST /api/repositories`, both read into one `RepositoryRequest`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import InvalidEventError, InvalidInputError
from shared.signals.envelope import Envelope

__all__ = [
    "REPOSITORY_REQUESTED",
    "RepositoryRequest",
    "parse_repository_requested",
    "read_repository_request",
]

REPOSITORY_REQUESTED = "cachekeeper.RepositoryRequested"
_FIELDS = ("registry", "upstream", "target")


@dataclass(frozen=True, slots=True)
class RepositoryRequest:
    """A request for one repository in one managed registry, by upstream or by target path."""

    registry: ResourceId
    upstream: Upstream | None = None
    target: TargetPath | None = None

    @property
    def label(self) -> str:
        """What is asked for, as the journal names it."""
        return str(self.upstream or self.target)


def read_repository_request(
    data: Any, *, registry: Callable[[Any], ResourceId]
) -> RepositoryRequest:
    """`{"upstream": ...}` or `{"target": ...}` with `registry`, which `registry(value)` resolves
    (a name needs the managed registries); InvalidInputError names the problem."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("the request must be a JSON object")
    unknown = sorted(str(k) for k in data if k not in _FIELDS)
    if unknown:
        raise InvalidInputError(f"unknown field(s): {', '.join(unknown)}")
    upstream, target = data.get("upstream"), data.get("target")
    if (upstream is None) == (target is None):
        raise InvalidInputError('give exactly one of "upstream" or "target"')
    resolved = registry(data.get("registry"))
    if upstream is not None:
        return RepositoryRequest(resolved, upstream=Upstream.parse(_text(upstream, "upstream")))
    return RepositoryRequest(
        resolved, target=TargetPath.parse(_text(target, "target"), allow_wildcard=False)
    )


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f'"{name}" must be a string')
    return value


def _registry_id(value: Any) -> ResourceId:
    if not isinstance(value, str) or not value.strip().startswith("/subscriptions/"):
        raise InvalidEventError("data.registry must be the registry's resource id")
    return ResourceId.parse(value.strip())


def parse_repository_requested(envelope: Envelope) -> RepositoryRequest:
    """The request in a `cachekeeper.RepositoryRequested` event. Unknown data fields (e.g.
    `requestedBy`) are tolerated, as in every envelope we read."""
    if envelope.type != REPOSITORY_REQUESTED:
        raise InvalidEventError(f"event type {envelope.type!r} is not {REPOSITORY_REQUESTED}")
    data = {k: v for k, v in envelope.data.items() if k in _FIELDS}
    _registry_id(data.get("registry"))  # checked before the rest, as the schema orders it
    return read_repository_request(data, registry=_registry_id)
