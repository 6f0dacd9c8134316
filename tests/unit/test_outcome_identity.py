"""An outcome's identity: one per signal, action, resource and phase; the journal keeps the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.adapters.memory import MemoryJournal
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus

AT = datetime(2026, 1, 1, tzinfo=UTC)
SET = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/c"


def outcome(status: OutcomeStatus, *, action: ActionKind | None, minutes: int = 0) -> Outcome:
    return Outcome("event-1", SET, status, "why", AT + timedelta(minutes=minutes), action)


def test_a_repeated_outcome_keeps_the_first_and_phases_and_actions_stay_apart() -> None:
    journal = MemoryJournal()
    update = ActionKind.UPDATE_CREDENTIAL_SET
    journal.record_outcome(outcome(OutcomeStatus.SUCCEEDED, action=None))
    journal.record_outcome(outcome(OutcomeStatus.NO_CHANGE, action=None, minutes=10))  # a retry
    journal.record_outcome(outcome(OutcomeStatus.PENDING_VERIFICATION, action=update, minutes=1))
    journal.record_outcome(outcome(OutcomeStatus.SUCCEEDED, action=update, minutes=5))  # verdict
    journal.record_outcome(outcome(OutcomeStatus.FAILED, action=update, minutes=6))  # a retry
    kept = [(o.action, o.status) for o in journal.outcomes()]
    assert kept == [
        (update, OutcomeStatus.SUCCEEDED),
        (update, OutcomeStatus.PENDING_VERIFICATION),
        (None, OutcomeStatus.SUCCEEDED),
    ]
    upper = Outcome("event-1", SET.upper(), OutcomeStatus.SUCCEEDED, "why", AT, None)
    assert upper.identity() == outcome(OutcomeStatus.FAILED, action=None).identity()
