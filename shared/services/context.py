"""What a use case works with: settings, ports, a clock, and bounded concurrency."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.domain.names import validate_rule_name
from shared.errors import NotFoundError
from shared.ports import (
    Access,
    Clock,
    Journal,
    Monitor,
    PolicyStore,
    Registry,
    ReportStore,
    Secrets,
)
from shared.ports_directory import Directory
from shared.ports_discovery import RegistryDiscovery
from shared.ports_events import EventTopic
from shared.ports_fanout import FanoutStore
from shared.settings import Settings

__all__ = ["Context", "fan_out"]

_T = TypeVar("_T")
_R = TypeVar("_R")
# Calls in flight per fan-out. 16 lets a rotation touching up to 16 registries read and patch them
# in one round (the latency budget in docs/performance.md; see bench/latency.py) while staying far below ARM's
# per-subscription read and write throttling limits.
MAX_CONCURRENCY = 16


@dataclass(frozen=True, slots=True)
class Context:
    """The ports and settings a use case needs (wired by shared.bootstrap or by tests)."""

    settings: Settings
    registry: Registry
    secrets: Secrets
    access: Access
    policies: PolicyStore
    journal: Journal
    clock: Clock
    reports: ReportStore | None = None
    monitor: Monitor | None = None  # None: the registries' log routing is not checked
    directory: Directory | None = None  # None: DIRECTORY_LOOKUP is off, no principal is looked up
    fanout: FanoutStore | None = None  # None: the audit timer audits every registry in one call
    discovery: RegistryDiscovery | None = None  # None: no REGISTRY_SCOPE, only MANAGED_REGISTRIES
    events: EventTopic | None = None  # None: EVENTS_TOPIC_ENDPOINT is unset, nothing is published

    def managed_registry(self, name: str) -> ResourceId:
        """The managed registry with this name; NotFoundError when it is not managed."""
        for registry in self.settings.managed_registries:
            if registry.name.lower() == name.lower():
                return registry
        raise NotFoundError(f"registry {name!r} is not one of the managed registries")

    def managed_credential_set(self, registry_name: str, name: str) -> CredentialSet:
        """One credential set of a managed registry, by names; InvalidNameError, NotFoundError."""
        validate_rule_name(name, kind="credential set")
        return self.registry.get_credential_set(
            self.managed_registry(registry_name).child("credentialSets", name)
        )

    def managed_credential_sets(self) -> list[CredentialSet]:
        """Every credential set of every managed registry (the registries are listed concurrently)."""
        per_registry = fan_out(self.registry.list_credential_sets, self.settings.managed_registries)
        return [c for sets in per_registry for c in sets]


def fan_out(
    work: Callable[[_T], _R], items: Iterable[_T], *, limit: int = MAX_CONCURRENCY
) -> list[_R]:
    """Run `work` over `items` concurrently (bounded), results in input order; the first error
    propagates after every call has finished, so no call is left running in the background.
    Each call runs in a copy of the caller's context, so its log records keep the invocation's
    scope (shared.log_context)."""
    batch = list(items)
    if len(batch) <= 1:
        return [work(item) for item in batch]
    with ThreadPoolExecutor(max_workers=min(limit, len(batch))) as pool:
        futures = [pool.submit(contextvars.copy_context().run, work, item) for item in batch]
    return [future.result() for future in futures]
