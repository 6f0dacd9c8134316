"""Wires the product once per worker: settings at start-up, adapters lazily on first use.

In Azure the SDK clients use DefaultAzureCredential (managed identity); in sandbox mode the same
SDK clients talk to the embedded sandbox through its in-process transport. Tests and the local
host call `configure(...)` to supply settings or a ready-made Context instead of monkeypatching;
`reset()` forgets everything.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from shared.settings import Settings, load_settings

if TYPE_CHECKING:
    from shared.ports import Clock, Journal, PolicyStore, ReportStore
    from shared.services.context import Context

__all__ = ["configure", "context", "reset", "settings"]

log = logging.getLogger(__name__)
_lock = threading.RLock()
_settings: Settings | None = None
_context: Context | None = None


def settings() -> Settings:
    """The validated settings of this worker (read from the environment on first use)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def context() -> Context:
    """The ports and settings the services use, built on first use and then reused."""
    global _context
    with _lock:
        if _context is None:
            _context = _build(settings())
        return _context


def configure(*, settings: Settings | None = None, context: Context | None = None) -> None:
    """Use these settings and/or this context instead of building them (tests, local host)."""
    global _settings, _context
    with _lock:
        _settings = settings if settings is not None else (context.settings if context else None)
        _context = context


def reset() -> None:
    """Forget cached settings and adapters; the next call re-reads the environment."""
    configure()


def _build(current: Settings) -> Context:
    from shared.adapters.azure import AzureAccess, AzureClients, AzureRegistry, KeyVaultSecrets
    from shared.services.context import Context

    clock: Clock
    if current.mode == "sandbox":
        from sandbox.embedded import get_sandbox  # dev and test only; never deployed

        sandbox = get_sandbox()
        clients = AzureClients(sandbox.credential(), transport=sandbox.transport())
        clock = sandbox.clock
    else:
        from shared.adapters.azure.clients import default_credential
        from shared.adapters.memory import SystemClock

        clients = AzureClients(default_credential(current.managed_identity_client_id))
        clock = SystemClock()
    policies, journal, reports = _stores(current)
    if current.mode == "sandbox":
        _seed_policies(policies, sandbox.scenario.policies)
    return Context(
        settings=current,
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies,
        journal=journal,
        clock=clock,
        reports=reports,
    )


def _seed_policies(store: PolicyStore, rows: list[dict[str, object]]) -> None:
    """A sandbox run starts with the scenario's policy rows when the table is still empty, so the
    local run shows the demo as designed rather than every rule as unmanaged."""
    from shared.domain.policies import Policy

    if rows and not store.list_policies():
        store.replace_all([Policy.from_dict(row) for row in rows])
        log.info("seeded the policy table with %d row(s) from the sandbox scenario", len(rows))


def _stores(current: Settings) -> tuple[PolicyStore, Journal, ReportStore]:
    if current.storage_connection is None:
        # only sandbox mode gets here (settings require storage in Azure)
        from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore

        log.warning("no STORAGE_CONNECTION: policy table, journal and reports are kept in memory")
        return MemoryPolicyStore(), MemoryJournal(), MemoryReportStore()
    from shared.adapters.tables import (
        TableJournal,
        TablePolicyStore,
        TableReportStore,
        tables_service,
    )

    credential = None
    if "=" not in current.storage_connection:
        from shared.adapters.azure.clients import default_credential

        credential = default_credential(current.managed_identity_client_id)
    service = tables_service(current.storage_connection, credential=credential)
    return (
        TablePolicyStore(service, current.policy_table),
        TableJournal(service, current.journal_table),
        TableReportStore(service, current.journal_table + "reports"),
    )
