"""Wires the product once per worker: settings at start-up, adapters lazily on first use.

In Azure the SDK clients use DefaultAzureCredential (managed identity). Sandbox mode is not wired
here: the local host (`devhost`), the CLI and tests give this module a ready-made Context over
the sandbox with `configure(context=...)` (see `sandbox/wiring.py`); without one, `context()`
refuses rather than talk to real Azure. Tests also `configure(...)` settings or their own
Context instead of monkeypatching; `reset()` forgets everything.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from shared.errors import ConfigurationError
from shared.settings import Settings, configuration_warnings, load_settings

if TYPE_CHECKING:
    from shared.ports import Journal, PolicyStore, ReportStore
    from shared.ports_fanout import FanoutStore
    from shared.services.context import Context

__all__ = ["configure", "context", "fanout_store", "has_context", "reset", "settings", "stores"]

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
            for warning in configuration_warnings(_settings):
                log.warning("configuration: %s", warning)
        return _settings


def context() -> Context:
    """The ports and settings the services use, built on first use and then reused.

    In sandbox mode the context must have been configured (by the local host, the CLI or a
    test); otherwise ConfigurationError."""
    global _context
    with _lock:
        if _context is None:
            _context = _build(settings())
        return _context


def has_context() -> bool:
    """Whether a context was configured or built already (`context()` would not build one)."""
    with _lock:
        return _context is not None


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
    if current.mode == "sandbox":
        raise ConfigurationError(
            "CACHEKEEPER_MODE",
            "sandbox mode is wired by the local host (python -m devhost), the cachekeeper CLI "
            "or the tests, and nothing configured it in this process",
            "run through one of those (they configure shared.bootstrap with a sandbox Context), "
            "or set CACHEKEEPER_MODE=azure",
        )
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
    from shared.adapters.azure.clients import default_credential
    from shared.adapters.system_clock import SystemClock
    from shared.services.context import Context

    clients = AzureClients(
        default_credential(current.managed_identity_client_id),
        pacer=RequestPacer(read_reserve=current.arm_read_reserve),
    )
    policies, journal, reports = stores(current)
    return Context(
        settings=current,
        registry=AzureRegistry(clients),
        secrets=KeyVaultSecrets(clients),
        access=AzureAccess(clients),
        policies=policies,
        journal=journal,
        clock=SystemClock(),
        reports=reports,
        monitor=AzureMonitor(clients),
        directory=GraphDirectory(clients) if current.directory_lookup else None,
        fanout=fanout_store(current),
        discovery=ResourceGraphDiscovery(clients) if current.registry_scope else None,
        events=EventGridTopic(clients, topic) if (topic := current.events_topic_endpoint) else None,
    )


def stores(current: Settings) -> tuple[PolicyStore, Journal, ReportStore]:
    """The policy table, journal and report store these settings name (Table Storage; in
    memory when there is no STORAGE_CONNECTION, which only sandbox mode allows)."""
    if current.storage_connection is None:
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


def fanout_store(current: Settings) -> FanoutStore:
    """Where the fanned-out audit keeps its runs and results: the `<JOURNAL_TABLE>fanout` table
    (in memory without STORAGE_CONNECTION, which only sandbox mode allows)."""
    if current.storage_connection is None:
        from shared.adapters.memory import MemoryFanoutStore

        return MemoryFanoutStore()
    from shared.adapters.tables import TableFanoutStore, tables_service

    credential = None
    if "=" not in current.storage_connection:
        from shared.adapters.azure.clients import default_credential

        credential = default_credential(current.managed_identity_client_id)
    service = tables_service(current.storage_connection, credential=credential)
    return TableFanoutStore(service, current.journal_table + "fanout")
