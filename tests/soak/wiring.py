"""The product's Context over a sandbox with instant SDK back-off (retries and LRO polls do not
sleep), so fault-heavy runs stay fast; otherwise what tests/integration/app_context.py builds."""

from __future__ import annotations

from sandbox import Sandbox
from shared.adapters.azure import AzureAccess, AzureClients, AzureRegistry, KeyVaultSecrets
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.policies import Policy
from shared.ports import Journal, PolicyStore
from shared.services import Context
from shared.settings import Settings
from tests.integration.app_context import demo_settings

__all__ = ["demo_policies", "fast_context"]


def demo_policies(sandbox: Sandbox) -> MemoryPolicyStore:
    """The scenario's `policies:` rows in an in-memory policy table."""
    return MemoryPolicyStore([Policy.from_dict(row) for row in sandbox.scenario.policies])


def fast_context(
    sandbox: Sandbox,
    *,
    settings: Settings | None = None,
    policies: PolicyStore | None = None,
    journal: Journal | None = None,
) -> Context:
    """A Context whose SDK clients reach `sandbox` in-process, with back-off sleeps scaled to 0."""
    clients = AzureClients(
        sandbox.credential(),
        transport=sandbox.transport(sleep_scale=0),
        async_transport=lambda: sandbox.async_transport(sleep_scale=0),
    )
    return Context(
        settings=settings or demo_settings(),
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies or demo_policies(sandbox),
        journal=journal or MemoryJournal(),
        clock=sandbox.clock,
    )
