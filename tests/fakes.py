"""A Context wired with the in-memory fakes, for unit tests of the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.adapters.memory import (
    FixedClock,
    MemoryAccess,
    MemoryJournal,
    MemoryPolicyStore,
    MemoryRegistry,
    MemorySecrets,
)
from shared.domain.ids import ResourceId
from shared.services import Context
from shared.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
CONTOSO = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
FABRIKAM = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/fabrikamcache"
)
VAULT = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-cache"
)
OTHER_VAULT = ResourceId.parse(
    f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-other"
)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@dataclass
class World:
    """The fakes behind a Context, kept typed so tests can seed and inspect them."""

    ctx: Context
    registry: MemoryRegistry
    secrets: MemorySecrets
    access: MemoryAccess
    policies: MemoryPolicyStore
    journal: MemoryJournal
    clock: FixedClock


def make_world(*, remediation: str = "report") -> World:
    settings = Settings.from_env(
        {
            "MANAGED_REGISTRIES": f"{CONTOSO},{FABRIKAM}",
            "VAULT_ALLOWLIST": str(VAULT),
            "CACHEKEEPER_MODE": "sandbox",
            "REMEDIATION_MODE": remediation,
        }
    )
    registry = MemoryRegistry([CONTOSO, FABRIKAM])
    secrets, access, policies, journal, clock = (
        MemorySecrets(),
        MemoryAccess(),
        MemoryPolicyStore(),
        MemoryJournal(),
        FixedClock(NOW),
    )
    ctx = Context(settings, registry, secrets, access, policies, journal, clock)
    return World(ctx, registry, secrets, access, policies, journal, clock)
