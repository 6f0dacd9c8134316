"""The product over a sandbox, wired as shared.bootstrap does in sandbox mode (real SDK adapters,
in-memory stores), with settings for the benchmark's registries and vaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox import ForwardingTransport, Sandbox, StaticTokenCredential
from shared.adapters.azure import (
    AzureAccess,
    AzureClients,
    AzureRegistry,
    KeyVaultSecrets,
    RequestPacer,
)
from shared.adapters.azure.pacing import DEFAULT_READ_RESERVE
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.adapters.system_clock import SystemClock
from shared.domain.policies import Policy
from shared.ports import Clock, Journal
from shared.services.context import Context
from shared.settings import Settings

SUB = "00000000-0000-0000-0000-000000000001"
RG_CACHE = "rg-cache"
RG_SECRETS = "rg-secrets"


def registry_id(name: str) -> str:
    """The ARM id of a benchmark registry."""
    return f"/subscriptions/{SUB}/resourceGroups/{RG_CACHE}/providers/Microsoft.ContainerRegistry/registries/{name}"


def vault_id(name: str) -> str:
    """The ARM id of a benchmark vault."""
    return f"/subscriptions/{SUB}/resourceGroups/{RG_SECRETS}/providers/Microsoft.KeyVault/vaults/{name}"


def bench_settings(registries: Sequence[str], vaults: Sequence[str], **overrides: str) -> Settings:
    """Sandbox-mode settings that manage exactly these registries and vaults."""
    env = {
        "CACHEKEEPER_MODE": "sandbox",
        "MANAGED_REGISTRIES": ",".join(registry_id(r) for r in registries),
        "VAULT_ALLOWLIST": ",".join(vault_id(v) for v in vaults),
    }
    env.update(overrides)
    return Settings.from_env(env)


def sandbox_context(
    sandbox: Sandbox, settings: Settings, *, policies: bool = True, journal: Journal | None = None
) -> Context:
    """What shared.bootstrap builds in sandbox mode: one AzureClients (clients built once and
    reused), the real SDK adapters, in-memory policy table (seeded from the scenario) and the
    given journal (the Table Storage one on Azurite: bench/journal.py), in memory without one."""
    clients = AzureClients(sandbox.credential(), transport=sandbox.transport())
    rows = [Policy.from_dict(p) for p in sandbox.scenario.policies] if policies else []
    return _context(clients, settings, rows, sandbox.clock, journal)


def remote_context(
    base_url: str, settings: Settings, policies: Sequence[Mapping[str, Any]]
) -> Context:
    """The same wiring over a sandbox served by `python -m sandbox` in another process: the SDK
    clients talk HTTP to it (`remote_clients`), as they would talk to ARM and Key Vault, and the
    emulator's own CPU stays out of this interpreter. Real time (the server's clock is
    not pinned either)."""
    clients = remote_clients(base_url, read_reserve=settings.arm_read_reserve)
    return _context(clients, settings, [Policy.from_dict(p) for p in policies], SystemClock())


def remote_clients(base_url: str, *, read_reserve: int = DEFAULT_READ_RESERVE) -> AzureClients:
    """SDK clients that reach `python -m sandbox` at `base_url` over HTTP, through azure-core's
    own `requests` transport (`ForwardingTransport` only rewrites each URL to the server); their
    request pacing waits in real time, as the server's clock runs."""
    return AzureClients(
        StaticTokenCredential(),
        transport=ForwardingTransport(base_url),
        pacer=RequestPacer(read_reserve=read_reserve),
    )


def _context(
    clients: AzureClients,
    settings: Settings,
    policies: list[Policy],
    clock: Clock,
    journal: Journal | None = None,
) -> Context:
    return Context(
        settings=settings,
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=MemoryPolicyStore(policies),
        journal=journal if journal is not None else MemoryJournal(),
        clock=clock,
    )
