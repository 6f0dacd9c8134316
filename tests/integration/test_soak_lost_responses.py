"""The soak with writes whose answer is lost: the sandbox applies the PUT or PATCH, then the
client sees a read timeout, as when a connection drops after the request went out. The SDK's
retry policy and Event Grid's redelivery see it as they would see a real loss; the product must
converge on the fault-free run's state with one outcome per event and nothing downgraded.

SOAK_LOST_EVENTS (default 100) sizes it, SOAK_LOST_RATE (default 0.3) is the fraction of
successful writes whose answer is lost; SOAK_SEED seeds it.
"""

from __future__ import annotations

import os

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal
from shared.ports import Journal
from shared.services import Context
from shared.settings import Settings
from tests.soak.interpose import Interposer, interposed_context
from tests.soak.report import compare_with_reference
from tests.soak.run import Figures, make_script, run_script

SIZE = int(os.environ.get("SOAK_LOST_EVENTS", "100"))
RATE = float(os.environ.get("SOAK_LOST_RATE", "0.3"))
SEED = int(os.environ.get("SOAK_SEED", "20301"))

Run = tuple[Figures, Figures, Journal]


@pytest.fixture(name="run", scope="module")
def run_fixture() -> Run:
    script = make_script(SEED, SIZE)
    reference, _ = run_script(script, faults=False, label=f"reference {SIZE}")
    journal = MemoryJournal()
    wires: list[Interposer] = []

    def lossy(sandbox: Sandbox, settings: Settings, _: Journal | None) -> list[Context]:
        wires.append(Interposer(sandbox, lost_rate=RATE, seed=SEED))
        return [interposed_context(wires[-1], settings=settings, journal=journal)]

    figures, _ = run_script(script, faults=False, label=f"lost answers {SIZE}", workers=lossy)
    figures.faults["lost answer"] = len(wires[0].lost)
    return reference, figures, journal


def test_the_answers_of_writes_were_really_lost(run: Run) -> None:
    _, figures, _ = run
    assert figures.faults["lost answer"] > 0
    assert figures.redeliveries > 0


def test_lost_answers_converge_on_the_fault_free_state_with_one_outcome_each(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, figures, journal = run
    compare_with_reference(reference, figures, journal, capsys)
