"""Outcomes are idempotent per event and action: one failed or lost Table Storage write on the
way to closing a signal neither blocks its redelivery nor records a second outcome. A lost or
unsent completion, and a lost outcome identity insert, are resolved within the attempt (the
journal reads the row back); the others fail the attempt and the redelivery converges.

The faults come from a transport around the SDK's own (azure-core's public `transport` option of
the real TableServiceClient) against Azurite: a write refused before it is sent, or one that lands
but whose answer is lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport

from sandbox import Sandbox
from shared.adapters.tables import TableJournal, tables_service
from shared.domain.plans import Outcome
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.signals import KEY_VAULT
from tests.integration.conftest_tables import (
    connection_string_fixture,
    service_fixture,
    table_fixture,
)
from tests.soak.checks import current_refs, downgrades, terminal_counts
from tests.soak.wiring import fast_context

__all__ = ["connection_string_fixture", "service_fixture", "table_fixture"]

pytestmark = pytest.mark.azurite
VAULT = "kv-cache-policies"


class FaultyTransport(RequestsTransport):  # type: ignore[misc]
    """The SDK's transport; the first request `matches` accepts fails once, as `mode` says:
    "refused" (never sent) or "lost" (sent, it lands, and the answer is lost)."""

    def __init__(self, matches: Callable[[str, str, str], bool], mode: str) -> None:
        super().__init__()
        self._matches = matches
        self._mode = mode
        self.injected = 0

    def send(self, request: Any, **kwargs: Any) -> Any:
        body = request.body if isinstance(request.body, str | bytes) else b""
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        hit = self.injected == 0 and self._matches(request.method, request.url, text)
        if hit and self._mode == "refused":
            self.injected += 1
            raise ServiceRequestError("injected: the request was not sent")
        response = super().send(request, **kwargs)
        if hit:
            self.injected += 1
            raise ServiceResponseError("injected: the answer was lost")
        return response


def per_event_and_action(outcomes: list[Outcome]) -> Counter[tuple[str, str, str, str]]:
    return Counter(
        (o.signal_id, o.action.value if o.action else "signal", o.resource.lower(), o.status.value)
        for o in outcomes
    )


def completing(method: str, url: str, body: str) -> bool:
    return method in ("PATCH", "MERGE") and '"completed"' in body


def closing_outcome(method: str, url: str, body: str) -> bool:
    """Any write of the signal's closing outcome (the first one is its identity row)."""
    return method in ("POST", "PUT") and "change(s) applied" in body


def closing_entry(method: str, url: str, body: str) -> bool:
    """The write of the closing outcome's entry row (after its identity row)."""
    return method == "PUT" and "change(s) applied" in body


def first_attempt(
    sandbox: Sandbox, transport: FaultyTransport, table: str, connection: str, *, resolved: bool
) -> Any:
    journal = TableJournal(tables_service(connection, retry_total=0, transport=transport), table)
    rotated = sandbox.add_secret_version(VAULT, "ghcr-password")
    ctx = fast_context(sandbox, journal=journal)
    if resolved:
        assert react(KEY_VAULT, rotated["eventGrid"], ctx).status is ReactionStatus.APPLIED
    else:
        with pytest.raises(Exception, match=r"injected|table storage"):
            react(KEY_VAULT, rotated["eventGrid"], ctx)
    assert transport.injected == 1
    return rotated["eventGrid"]


@pytest.mark.parametrize(
    "case",
    [
        (completing, "refused", True),
        (completing, "lost", True),
        (closing_outcome, "lost", True),
        (closing_entry, "refused", False),
        (closing_entry, "lost", False),
    ],
    ids=[
        "completion-refused",
        "completion-answer-lost",
        "closing-outcome-answer-lost",
        "closing-entry-refused",
        "closing-entry-answer-lost",
    ],
)
def test_one_failed_journal_write_converges_on_one_outcome_per_event_and_action(
    sandbox: Sandbox,
    table: str,
    connection_string: str,
    case: tuple[Callable[[str, str, str], bool], str, bool],
) -> None:
    matches, mode, resolved = case  # the write that fails, how, and whether the attempt resolves it
    sandbox.clock.set(sandbox.clock.now())
    initial = current_refs(sandbox)
    transport = FaultyTransport(matches, mode)
    event = first_attempt(sandbox, transport, table, connection_string, resolved=resolved)
    patches = len(sandbox.log.writes("/credentialSets/"))
    assert patches >= 1  # the first attempt applied the rotation

    journal = TableJournal(tables_service(connection_string, retry_total=0), table)
    redelivery = fast_context(sandbox, journal=journal)
    sandbox.clock.advance(30)  # Event Grid's first retry, well inside the claim's 10 minutes
    again = react(KEY_VAULT, event, redelivery)  # not blocked for the claim's TTL
    assert again.status in (ReactionStatus.NO_CHANGE, ReactionStatus.DUPLICATE)
    outcomes = journal.outcomes(limit=1000)
    assert terminal_counts(outcomes) == {event["id"]: 1}
    keys = Counter((o.signal_id, o.action, o.resource.lower()) for o in outcomes)
    assert all(count == 1 for count in keys.values()), per_event_and_action(outcomes)
    assert len(sandbox.log.writes("/credentialSets/")) == patches  # nothing written twice
    assert react(KEY_VAULT, event, redelivery).status is ReactionStatus.DUPLICATE
    assert downgrades(sandbox, initial) == []
