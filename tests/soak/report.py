"""One scenario of the soak compared with the fault-free run of the same script: the figures
printed as the soak prints them, and the invariants every scenario keeps."""

from __future__ import annotations

import pytest

from shared.ports import Journal
from tests.soak.checks import changed_keys, terminal_counts
from tests.soak.run import Figures

__all__ = ["compare_with_reference", "outcome_counts"]


def outcome_counts(figures: Figures, journal: Journal) -> tuple[list[str], list[str]]:
    """(events with no terminal outcome, events with more than one) in the journal."""
    outcomes = journal.outcomes(limit=1_000_000)
    counts = terminal_counts(outcomes)
    events = sorted(set(figures.event_ids))
    lost = [i for i in events if counts[i] == 0]
    return lost, [i for i in events if counts[i] > 1]


def compare_with_reference(
    reference: Figures,
    figures: Figures,
    journal: Journal,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Print both runs' figures, then assert: no unexpected error, nothing dead-lettered, no
    lost or duplicate outcome, no downgrade, no widened grant, no secret value read, and the
    same end state as the fault-free run."""
    lost, duplicated = outcome_counts(figures, journal)
    equal = figures.state == reference.state
    with capsys.disabled():
        print(f"\n{reference.summary()}\n{figures.summary()}")
        print(
            f"[{figures.label}] events {len(set(figures.event_ids))}, faults injected "
            f"{sum(figures.faults.values())}, redeliveries {figures.redeliveries}, final state "
            f"equals the fault-free run: {equal}, lost outcomes {len(lost)}, downgrades "
            f"{len(figures.downgrades)}, duplicate outcomes {len(duplicated)}"
        )
    assert reference.unexpected_errors == [], reference.unexpected_errors
    assert reference.downgrades == [], reference.downgrades
    assert figures.unexpected_errors == [], figures.unexpected_errors
    assert figures.dead_letters == [], figures.dead_letters
    assert figures.dead_lettered == 0
    assert lost == [], [o for o in journal.outcomes(limit=1_000_000) if o.signal_id in lost]
    assert duplicated == [], duplicated
    assert figures.downgrades == [], figures.downgrades
    assert figures.grant_violations == [], figures.grant_violations
    assert figures.secret_values_served == 0
    assert changed_keys(figures.state, reference.state) == [], changed_keys(
        figures.state, reference.state
    )
    assert figures.writes > 0
