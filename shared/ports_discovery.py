"""The RegistryDiscovery port: registries found by scope and tags (see `shared/ports.py`)."""

from __future__ import annotations

from typing import Protocol

from shared.domain.discovery import RegistryScope
from shared.domain.ids import ResourceId

__all__ = ["RegistryDiscovery"]


class RegistryDiscovery(Protocol):
    """Azure Resource Graph, read for the registries a scope and tag filter cover."""

    def registries(self, scope: RegistryScope) -> list[ResourceId]:
        """Every registry in the scope carrying the tags, each once, ordered by id;
        AccessDeniedError, ThrottledError, UpstreamUnavailableError as for other ARM calls."""
        ...
