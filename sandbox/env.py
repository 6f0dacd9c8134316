"""Options and the per-request view of the sandbox handed to the service handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.state import State

ARM_HOST = "management.azure.com"
KEYVAULT_SUFFIX = ".vault.azure.net"


@dataclass
class SandboxOptions:
    """Tunable behaviour; defaults favour fast, faithful tests."""

    page_size: int = 20  # ARM list page size (cacheRules, credentialSets, registries, ...)
    kv_page_size: int = 25  # Key Vault default maxresults
    retry_after: int = 0  # Retry-After seconds on LRO responses
    lro_in_progress_polls: int = 0  # status polls answered InProgress before an LRO finishes
    max_cache_rules: int = 1000  # per registry, as documented for ACR
    async_patch: bool = False  # PATCH answers 201 + Azure-AsyncOperation instead of 200
    # refuse rules without credentials for the overview's other auth-only upstreams (dhi.io,
    # *.pkg.dev, registry.redhat.io) as for Docker Hub; whether ACR does is not documented
    enforce_auth_only_upstreams: bool = True
    # refuse a wildcard over existing repositories through a Failed LRO (PUT 201, then the
    # operation fails) instead of a 409 on the PUT; which one ACR does is not documented
    prefix_refusal_in_lro: bool = False
    kv_versions_order: str = "created"  # list-versions order: created | newest-first | version-id


@dataclass
class Env:
    """What a handler needs: the state (lock already held), the time, the options."""

    state: State
    now: datetime
    options: SandboxOptions = field(default_factory=SandboxOptions)


def format_time(when: datetime) -> str:
    """ARM timestamp: ISO 8601 with offset, like `2022-11-07T18:20:33.837496+00:00`."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def unix(when: datetime | None) -> int | None:
    """Key Vault timestamp: integer Unix seconds."""
    return None if when is None else int(when.timestamp())
