"""The soak on a Table Storage journal that misbehaves: Azurite behind a fault-injecting proxy
(`tests/soak/tableproxy.py`) that resets connections before and after a request lands, answers
503 and delays. The product must converge on the fault-free run's state with one outcome per
event and nothing downgraded.

SOAK_TABLE_EVENTS (default 30) sizes it; SOAK_SEED seeds it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from devhost.azurite import Azurite
from shared.adapters.tables import TableJournal, tables_service
from shared.ports import Journal
from shared.services.leases import LEASE_TTL
from shared.services.once import IN_PROGRESS_TTL
from tests.soak.report import compare_with_reference
from tests.soak.run import Figures, make_script, run_script
from tests.soak.tableproxy import ProxyFaults, TableProxy, service_through

SIZE = int(os.environ.get("SOAK_TABLE_EVENTS", "30"))
SEED = int(os.environ.get("SOAK_SEED", "20301"))
# events still refused after the quick redeliveries are retried once more when whatever a failed
# journal write left behind (a claim in progress, a lease) has expired, as Event Grid's later
# retries would
LATER = max(IN_PROGRESS_TTL, LEASE_TTL) + timedelta(minutes=1)

Run = tuple[Figures, Figures, Journal]


def table_run(azurite: Azurite, faults: ProxyFaults, label: str) -> Iterator[Run]:
    script = make_script(SEED, SIZE)
    reference, _ = run_script(script, faults=False, label=f"reference {SIZE}")
    proxy = TableProxy(azurite.port, faults)
    table = f"t{uuid.uuid4().hex}"
    journal = TableJournal(service_through(proxy), table)
    figures, _ = run_script(
        script, faults=False, journal=journal, label=f"{label} {SIZE}", late=LATER
    )
    figures.faults.update({k: v for k, v in faults.counts.items() if k != "relayed"})
    proxy.close()
    direct = tables_service(azurite.connection_string, retry_total=0)
    yield reference, figures, TableJournal(direct, table)
    direct.delete_table(table)


@pytest.fixture(name="unanswered", scope="module")
def unanswered_fixture(azurite: Azurite) -> Iterator[Run]:
    """Requests that never land: resets before Azurite sees them, 503s, delays."""
    faults = ProxyFaults(reset_before=0.05, busy=0.08, delay=0.1, seed=SEED)
    yield from table_run(azurite, faults, "table resets, 503s and delays")


@pytest.fixture(name="landed", scope="module")
def landed_fixture(azurite: Azurite) -> Iterator[Run]:
    """Requests that land, whose answer is lost (the connection reset after Azurite applied
    them), among the faults of `unanswered`."""
    faults = ProxyFaults(reset_before=0.03, reset_after=0.03, busy=0.05, delay=0.1, seed=SEED)
    yield from table_run(azurite, faults, "table answers lost")


@pytest.mark.azurite
def test_table_storage_faults_really_happened(unanswered: Run, landed: Run) -> None:
    assert unanswered[1].faults["reset before"] > 0
    assert unanswered[1].faults["503"] > 0
    assert landed[1].faults["reset after"] > 0


@pytest.mark.azurite
def test_table_requests_that_never_land_converge_with_one_outcome_each(
    unanswered: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    compare_with_reference(*unanswered, capsys)


@pytest.mark.azurite
def test_table_writes_whose_answer_is_lost_converge_with_one_outcome_each(
    landed: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    compare_with_reference(*landed, capsys)
