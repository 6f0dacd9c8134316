"""Key Vault events that no delivery can handle are rejected once, recorded in the Table Storage
journal (Azurite) and acknowledged, instead of failing every delivery until dead-lettered: an
`NBF`/`EXP` beyond any float (OverflowError before), an event id with a lone surrogate
(UnicodeEncodeError in the journal's claim before), a huge integer or deep nesting in `data`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.tables import TableJournal, tables_service
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.integration.conftest_tables import (
    connection_string_fixture,
    service_fixture,
    table_fixture,
)
from tests.soak.checks import current_refs
from tests.soak.wiring import fast_context

__all__ = ["connection_string_fixture", "service_fixture", "table_fixture"]

pytestmark = pytest.mark.azurite
VAULT = "kv-cache-policies"


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def damage(event: dict[str, Any]) -> None:
        target = event
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return damage


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"x": value}
    return value


DAMAGE = {
    "NBF of 10**400": _set(("data", "NBF"), 10**400),
    "EXP of 10**400": _set(("data", "EXP"), 10**400),
    "EXP of 1e400": _set(("data", "EXP"), float("inf")),
    "a lone surrogate in the id": lambda e: e.update(id=e["id"] + "\ud800"),
    "a lone surrogate in the subject": lambda e: e.update(subject=e["subject"] + "\udfff"),
    "a lone surrogate in a data key": lambda e: e["data"].update({"\ud800": 1}),
    "data nested 500 deep": _set(("data", "Extra"), _nested(500)),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_an_unhandleable_event_is_rejected_recorded_and_acknowledged_once(
    sandbox: Sandbox, table: str, connection_string: str, case: str
) -> None:
    journal = TableJournal(tables_service(connection_string, retry_total=0), table)
    ctx = fast_context(sandbox, journal=journal)
    initial = current_refs(sandbox)
    event = sandbox.add_secret_version(VAULT, "ghcr-password")["eventGrid"]
    DAMAGE[case](event)
    sandbox.log.clear()

    for _delivery in range(2):  # a redelivery is answered the same way: nothing raises
        reaction = react(KEY_VAULT, event, ctx)
        assert reaction.status is ReactionStatus.REJECTED, reaction.reason
    outcomes = journal.outcomes(limit=10)
    assert outcomes and {o.status.value for o in outcomes} == {"rejected"}
    assert sandbox.log.writes() == []
    assert current_refs(sandbox) == initial  # nothing moved


def test_the_rejected_id_is_recorded_with_its_surrogate_escaped(
    sandbox: Sandbox, table: str, connection_string: str
) -> None:
    journal = TableJournal(tables_service(connection_string, retry_total=0), table)
    event = sandbox.add_secret_version(VAULT, "ghcr-password")["eventGrid"]
    event["id"] = "rotation-\ud800"
    react(KEY_VAULT, event, fast_context(sandbox, journal=journal))
    (outcome,) = journal.outcomes(limit=10)
    assert outcome.signal_id == "rotation-\\ud800"
    assert "lone surrogate" in outcome.reason
