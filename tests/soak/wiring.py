"""The product's Context over a sandbox with instant SDK back-off (retries and LRO polls do not
sleep), so fault-heavy runs stay fast; otherwise what tests/integration/app_context.py builds."""

from __future__ import annotations

from sandbox import Sandbox
from shared.adapters.memory import MemoryPolicyStore
from shared.domain.policies import Policy
from shared.ports import Journal, PolicyStore
from shared.services import Context
from shared.settings import Settings
from tests.integration.app_context import sandbox_context

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
    return sandbox_context(
        sandbox,
        settings=settings,
        policies=policies or demo_policies(sandbox),
        journal=journal,
        sleep_scale=0,
    )
