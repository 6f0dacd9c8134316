"""The soak's events delivered to several workers at once: each event of a batch reaches every
worker (threads, each with its own Context and its own Table Storage client) over one sandbox
and one Azurite journal. Exactly one outcome per event, nothing downgraded, and the end state of
the fault-free single-worker run.

SOAK_WORKER_EVENTS (default 25) and SOAK_WORKERS (default 3) size it; SOAK_SEED seeds it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devhost.azurite import Azurite
from sandbox import Sandbox
from shared.adapters.tables import TableJournal, tables_service
from shared.ports import Journal
from shared.services import Context
from shared.settings import Settings
from tests.soak.report import compare_with_reference
from tests.soak.run import Figures, make_script, run_script
from tests.soak.wiring import fast_context

SIZE = int(os.environ.get("SOAK_WORKER_EVENTS", "25"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "3"))
SEED = int(os.environ.get("SOAK_SEED", "20301"))

Run = tuple[Figures, Figures, Journal]


@pytest.fixture(name="run", scope="module")
def run_fixture(azurite: Azurite) -> Iterator[Run]:
    """The reference run, and the same script delivered to every worker at once."""
    script = make_script(SEED, SIZE)
    reference, _ = run_script(script, faults=False, label=f"reference {SIZE}")
    table = f"t{uuid.uuid4().hex}"

    def workers(sandbox: Sandbox, settings: Settings, _: Journal | None) -> list[Context]:
        return [
            fast_context(
                sandbox,
                settings=settings,
                journal=TableJournal(tables_service(azurite.connection_string), table),
            )
            for _ in range(WORKERS)
        ]

    label = f"{WORKERS} workers {SIZE}"
    figures, _ = run_script(script, faults=False, label=label, workers=workers)
    service = tables_service(azurite.connection_string, retry_total=0)
    yield reference, figures, TableJournal(service, table)
    service.delete_table(table)


@pytest.mark.azurite
def test_every_event_really_reached_every_worker(run: Run) -> None:
    reference, figures, _ = run
    assert figures.deliveries == WORKERS * reference.deliveries
    # all but one delivery of each event found it handled, or waited for the worker handling it
    waited = figures.statuses["duplicate"] + figures.redeliveries
    assert waited >= (WORKERS - 1) * len(set(figures.event_ids))


@pytest.mark.azurite
def test_several_workers_converge_with_exactly_one_outcome_per_event(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, figures, journal = run
    compare_with_reference(reference, figures, journal, capsys)
