"""The product's Context over a test's sandbox: the demo settings, in-memory or Azurite stores."""

from __future__ import annotations

from sandbox import Sandbox, wiring
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
    """What the local host wires in sandbox mode (sandbox/wiring.py), for one test's sandbox,
    with the demo settings and in-memory stores unless given (`sleep_scale` scales the SDK's
    retry back-off and LRO polling: 0 makes them instant)."""
    return wiring.sandbox_context(
        sandbox,
        settings or demo_settings(),
        policies=policies or MemoryPolicyStore(),
        journal=journal or MemoryJournal(),
        sleep_scale=sleep_scale,
    )
