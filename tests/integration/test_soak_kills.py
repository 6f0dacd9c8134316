"""The soak with workers killed mid-write: right after an Azure write succeeded and before the
journal heard of it, the worker dies (no `finally` runs: its claim and its lease stay behind).
Event Grid redelivers, to a new instance; what a dead worker left blocks the event only until it
expires, so events still refused after the quick redeliveries are retried once more later (as
Event Grid's schedule would). The product must converge on the fault-free run's state with one
outcome per event and nothing downgraded.

SOAK_KILL_EVENTS (default 60) sizes it, SOAK_KILL_RATE (default 0.1) is the fraction of writes
after which the worker dies; SOAK_SEED seeds it.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.ports import Journal
from shared.services import Context
from shared.services.leases import LEASE_TTL
from shared.services.once import IN_PROGRESS_TTL
from shared.settings import Settings
from tests.soak.kills import killable
from tests.soak.report import compare_with_reference
from tests.soak.run import Figures, make_script, run_script
from tests.soak.wiring import fast_context

SIZE = int(os.environ.get("SOAK_KILL_EVENTS", "60"))
RATE = float(os.environ.get("SOAK_KILL_RATE", "0.1"))
SEED = int(os.environ.get("SOAK_SEED", "20301"))
LATER = max(IN_PROGRESS_TTL, LEASE_TTL) + timedelta(minutes=1)

Run = tuple[Figures, Figures, Journal]


@pytest.fixture(name="run", scope="module")
def run_fixture() -> Run:
    script = make_script(SEED, SIZE)
    reference, _ = run_script(script, faults=False, label=f"reference {SIZE}")
    journal = MemoryJournal()
    kills: list[str] = []

    def dying(sandbox: Sandbox, settings: Settings, _: Journal | None) -> list[Context]:
        ctx = fast_context(sandbox, settings=settings, journal=journal)
        return [killable(ctx, journal, rate=RATE, seed=SEED, kills=kills)]

    label = f"killed mid-write {SIZE}"
    figures, _ = run_script(script, faults=False, label=label, workers=dying, late=LATER)
    figures.faults["killed after a write"] = len(kills)
    return reference, figures, journal


def test_workers_were_really_killed_between_a_write_and_its_record(run: Run) -> None:
    _, figures, _ = run
    assert figures.faults["killed after a write"] > 0
    assert figures.crashes == figures.faults["killed after a write"]
    assert figures.late_redeliveries > 0  # a dead worker's claim really blocked its event


def test_killed_workers_converge_on_the_fault_free_state_with_one_outcome_each(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, figures, journal = run
    compare_with_reference(reference, figures, journal, capsys)
