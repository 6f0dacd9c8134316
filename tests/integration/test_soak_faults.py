"""Soak under faults: mixed events, injected faults, redelivery; nothing lost, nothing
downgraded, nothing widened, and the same end state as a fault-free run.

Sizes come from the environment so `make soak` can run the large version:
SOAK_EVENTS (default 150), SOAK_AZURITE_EVENTS (default 60), SOAK_SEED.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from azure.data.tables import TableServiceClient

from devhost.azurite import ACCOUNT_KEY
from sandbox.transport import FAKE_TOKEN
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal
from shared.log_context import AZURE_LOG_LEVEL_SETTING, configure_logging
from shared.ports import Journal
from tests.integration.conftest_tables import service_fixture, table_fixture
from tests.soak.checks import changed_keys, terminal_counts
from tests.soak.run import Figures, journal_text, make_script, run_script


@pytest.fixture(autouse=True)
def sdk_logs_raised() -> Iterator[None]:
    # the leak check below reads the Azure SDK's request/response lines too: they are off by
    # default (WARNING) and an operator may raise them with CACHEKEEPER_AZURE_LOG_LEVEL
    configure_logging({AZURE_LOG_LEVEL_SETTING: "INFO"})
    yield
    configure_logging({})


__all__ = ["service_fixture", "table_fixture"]

SIZE = int(os.environ.get("SOAK_EVENTS", "150"))
AZURITE_SIZE = int(os.environ.get("SOAK_AZURITE_EVENTS", "60"))
SEED = int(os.environ.get("SOAK_SEED", "20301"))


def lost_outcomes(figures: Figures, journal: Journal) -> dict[str, int]:
    """Event ids without exactly one terminal outcome in the journal (id -> how many)."""
    outcomes = journal.outcomes(limit=1_000_000)
    counts = terminal_counts(outcomes)
    return {i: counts[i] for i in sorted(set(figures.event_ids)) if counts[i] != 1}


def soak(
    size: int,
    journal: Journal,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = make_script(SEED, size)
    reference, _ = run_script(script, faults=False, label=f"reference {size}")
    secret_values: list[str] = []
    caplog.set_level(logging.INFO)  # what Application Insights would keep
    figures, ctx = run_script(
        script, faults=True, journal=journal, label=f"faults {size}", secret_values=secret_values
    )
    lost = lost_outcomes(figures, journal)
    equal = figures.state == reference.state
    with capsys.disabled():
        print(f"\n{reference.summary()}\n{figures.summary()}")
        print(
            f"[faults {size}] events {len(set(figures.event_ids))}, final state equals the "
            f"fault-free run: {equal}, lost outcomes {len(lost)}, downgrades "
            f"{len(figures.downgrades)}"
        )

    assert figures.unexpected_errors == []
    assert reference.unexpected_errors == []
    assert sum(figures.faults.values()) > size // 2, "the faults were not injected"
    assert figures.redeliveries > 0
    assert figures.dead_lettered == 0
    assert lost == {}
    assert changed_keys(figures.state, reference.state) == []
    assert figures.downgrades == []
    assert reference.downgrades == []
    assert figures.grant_violations == []
    assert figures.secret_values_served == 0
    # something happened: rotations moved sets, access was repaired, rules were created
    assert figures.writes > 0
    assert {"applied", "duplicate", "ignored", "rejected"} <= set(figures.statuses)

    # no secret value, token or storage key in the logs or the journal
    forbidden = [v for v in secret_values if len(v) >= 8] + [FAKE_TOKEN, ACCOUNT_KEY]
    assert len(secret_values) > 10
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert len(caplog.records) > 100
    journal_dump = journal_text(
        ctx.journal.outcomes(limit=1_000_000), ctx.journal.findings(limit=1_000_000)
    )
    leaks = [v[:6] + "..." for v in forbidden if v in logged or v in journal_dump]
    assert leaks == []


def test_soak_under_faults_converges_with_nothing_lost(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    soak(SIZE, MemoryJournal(), caplog, capsys)


@pytest.mark.azurite
def test_soak_under_faults_on_the_table_journal(
    service: TableServiceClient,
    table: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    soak(AZURITE_SIZE, TableJournal(service, table), caplog, capsys)
