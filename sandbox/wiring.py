"""The product wired over a sandbox: its real SDK adapters reaching the sandbox in-process.

The one module of `sandbox/` that imports `shared/`, and nothing else in `sandbox/` imports it:
the emulation stays independent of the product. The local host (`devhost`), the CLI's sandbox
mode and the tests use it to hand `shared.bootstrap` a Context (`shared.bootstrap` itself never
builds one for sandbox mode).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sandbox.core import Sandbox
from sandbox.embedded import get_sandbox
from shared import bootstrap
from shared.adapters.azure import (
    AzureAccess,
    AzureClients,
    AzureMonitor,
    AzureRegistry,
    EventGridTopic,
    GraphDirectory,
    KeyVaultSecrets,
    RequestPacer,
    ResourceGraphDiscovery,
)
from shared.domain.policies import Policy
from shared.ports import Journal, PolicyStore, ReportStore
from shared.ports_fanout import FanoutStore
from shared.services.context import Context
from shared.settings import Settings

__all__ = ["SandboxTime", "sandbox_context", "sandbox_mode_context", "wire_sandbox_mode"]

log = logging.getLogger(__name__)


def sandbox_context(
    sandbox: Sandbox,
    settings: Settings,
    *,
    policies: PolicyStore,
    journal: Journal,
    reports: ReportStore | None = None,
    fanout: FanoutStore | None = None,
    sleep_scale: float = 1.0,
) -> Context:
    """The product's Context over `sandbox`, with these stores (`sleep_scale` scales the SDK's
    retry back-off and LRO polling: 0 makes them instant). The request pacing waits on the
    sandbox clock when the sandbox throttles (`SandboxTime`), where its buckets refill."""
    clients = AzureClients(
        sandbox.credential(),
        transport=sandbox.transport(sleep_scale=sleep_scale),
        pacer=RequestPacer(
            waiting=SandboxTime(sandbox, sleep_scale), read_reserve=settings.arm_read_reserve
        ),
        async_transport=lambda: sandbox.async_transport(sleep_scale=sleep_scale),
    )
    return Context(
        settings=settings,
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies,
        journal=journal,
        clock=sandbox.clock,
        reports=reports,
        fanout=fanout,
        discovery=ResourceGraphDiscovery(clients) if settings.registry_scope else None,
        monitor=AzureMonitor(clients),
        directory=GraphDirectory(clients) if settings.directory_lookup else None,
        events=EventGridTopic(clients, topic)
        if (topic := settings.events_topic_endpoint)
        else None,
    )


class SandboxTime:
    """The pacing's time in the sandbox: its clock. While the sandbox throttles (option
    `throttling`) on a pinned clock, waiting moves the clock to the moment waited for, where its
    buckets have refilled (no wall-clock wait in tests); otherwise a wait is a real sleep scaled
    like the SDK's own retries (`sleep_scale`: 0 makes waits for injected 429s instant)."""

    def __init__(self, sandbox: Sandbox, sleep_scale: float = 1.0) -> None:
        self._sandbox = sandbox
        self._scale = sleep_scale

    def now(self) -> datetime:
        return self._sandbox.clock.now()

    def wait_until(self, when: datetime) -> None:
        clock = self._sandbox.clock
        if self._sandbox.options.throttling and clock.pinned:
            clock.advance_to(when)
            return
        seconds = (when - clock.now()).total_seconds() * self._scale
        if seconds > 0:
            time.sleep(seconds)


def sandbox_mode_context(settings: Settings, sandbox: Sandbox | None = None) -> Context:
    """What sandbox mode runs on: `sandbox` (default: the process-wide one, which the local host
    serves at /_sandbox), the stores the settings name (Azurite or in memory), and the
    scenario's policy rows in a policy table that was still empty."""
    sandbox = sandbox or get_sandbox()
    policies, journal, reports = bootstrap.stores(settings)
    _seed_policies(policies, sandbox.scenario.policies)
    return sandbox_context(
        sandbox, settings, policies=policies, journal=journal, reports=reports,
        fanout=bootstrap.fanout_store(settings),
    )  # fmt: skip


def wire_sandbox_mode() -> None:
    """Give `shared.bootstrap` the sandbox-mode Context, unless it has one already (a test's).

    Call it once the settings are loaded (they must say CACHEKEEPER_MODE=sandbox) and before
    anything asks `shared.bootstrap.context()`."""
    current = bootstrap.settings()
    if current.mode != "sandbox":
        raise ValueError("wire_sandbox_mode() needs CACHEKEEPER_MODE=sandbox")
    if not bootstrap.has_context():
        bootstrap.configure(context=sandbox_mode_context(current))


def _seed_policies(store: PolicyStore, rows: list[dict[str, object]]) -> None:
    """A sandbox run starts with the scenario's policy rows when the table is still empty, so the
    local run shows the demo as designed rather than every rule as unmanaged."""
    if rows and not store.list_policies():
        store.replace_all([Policy.from_dict(row) for row in rows])
        log.info("seeded the policy table with %d row(s) from the sandbox scenario", len(rows))
