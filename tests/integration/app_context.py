"""The product's Context over a sandbox: the real SDK adapters, in-memory or Azurite stores."""

from __future__ import annotations

from sandbox import Sandbox
from shared.adapters.azure import AzureAccess, AzureClients, AzureRegistry, KeyVaultSecrets
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.ports import Journal, PolicyStore
from shared.services import Context
from shared.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRIES = {
    name: f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/{name}"
    for name in ("contosocache", "fabrikamcache")
}
VAULTS = {
    name: f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/{name}"
    for name in ("kv-cache-rbac", "kv-cache-policies")
}


def demo_settings(**overrides: str) -> Settings:
    env = {
        "CACHEKEEPER_MODE": "sandbox",
        "MANAGED_REGISTRIES": ",".join(REGISTRIES.values()),
        "VAULT_ALLOWLIST": ",".join(VAULTS.values()),
    }
    env.update(overrides)
    return Settings.from_env(env)


def sandbox_context(
    sandbox: Sandbox,
    *,
    settings: Settings | None = None,
    policies: PolicyStore | None = None,
    journal: Journal | None = None,
    sleep_scale: float = 1.0,
) -> Context:
    """What shared.bootstrap builds in sandbox mode, for one test's sandbox (`sleep_scale`
    scales the SDK's retry back-off and LRO polling: 0 makes them instant)."""
    clients = AzureClients(
        sandbox.credential(), transport=sandbox.transport(sleep_scale=sleep_scale)
    )
    return Context(
        settings=settings or demo_settings(),
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies or MemoryPolicyStore(),
        journal=journal or MemoryJournal(),
        clock=sandbox.clock,
    )
