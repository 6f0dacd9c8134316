"""A burst of pull failures for one credential set while a worker diagnoses it: every delivery
answers success (an Event Grid delivery returns, the alert webhook answers 202, not 409), the
newest failure is kept pending, and the diagnosis in progress re-checks once it is done; when
its worker dies, the sweep re-checks (test_pull_failure_sweep.py).

The real SDK clients against the sandbox; the journal in memory and on Azurite.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import azure.functions as func
import pytest
from azure.data.tables import TableServiceClient

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal, tables_service
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.domain.plans import OutcomeStatus
from shared.ports import Journal, Registry
from shared.services import ReactionStatus
from shared.services.reactions import react
from shared.services.results import Reaction
from shared.signals import PULL_FAILURES
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    service_fixture,
    table_fixture,
)
from tests.soak.crash import Worker
from tests.soak.wiring import fast_context

CONTOSO = REGISTRIES["contosocache"]
REPOSITORY = "quay/prometheus/prometheus"  # served by quay-prometheus, credential set quay-io
QUAY = ResourceId.parse(CONTOSO).child("credentialSets", "quay-io")


def pull_failed(event_id: str) -> dict[str, Any]:
    return {
        "specversion": "1.0", "id": event_id, "type": "cachekeeper.PullFailed",
        "source": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
        "time": "2026-11-23T12:00:00Z", "datacontenttype": "application/json",
        "data": {"registry": CONTOSO, "repository": REPOSITORY, "status": 401},
    }  # fmt: skip


def alert_body(alert_id: str) -> bytes:
    payload: Any = load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    payload["data"]["essentials"]["alertId"] = (
        f"/providers/Microsoft.AlertsManagement/alerts/{alert_id}"
    )
    payload["data"]["essentials"]["alertTargetIDs"] = [CONTOSO]
    payload["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = [
        {"name": "Repository", "value": REPOSITORY}, {"name": "Status", "value": "401"}
    ]  # fmt: skip
    return json.dumps(payload).encode()


class PausingRegistry:
    """The real registry; the first credential-set read (the diagnosis) waits for `go`, then the
    worker dies there when `die` is set. Every credential-set read is counted."""

    def __init__(self, inner: Registry, worker: Worker, *, die: bool = False) -> None:
        self._inner, self._worker, self._die = inner, worker, die
        self.entered, self.go = threading.Event(), threading.Event()
        self.reads = 0

    def get_credential_set(self, credential_set: ResourceId) -> CredentialSet:
        self.reads += 1
        if self.reads == 1:
            self.entered.set()
            assert self.go.wait(timeout=30)
            if self._die:
                self._worker.kill("while diagnosing")
        return self._inner.get_credential_set(credential_set)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def in_thread(work: Callable[[], Reaction]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # asserted by the test
            result.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.fixture(name="journal", params=["memory", pytest.param("table", marks=pytest.mark.azurite)])
def journal_fixture(request: pytest.FixtureRequest) -> Journal:
    """The journal under test: in memory, or on a fresh Azurite table."""
    if request.param == "memory":
        return MemoryJournal()
    service: TableServiceClient = request.getfixturevalue("service")
    return TableJournal(service, request.getfixturevalue("table"))


@pytest.fixture(autouse=True)
def unwire() -> Iterator[None]:
    yield
    bootstrap.reset()


def closing(journal: Journal, signal_id: str) -> list[Any]:
    return [
        o for o in journal.outcomes(limit=1000) if o.signal_id == signal_id and o.action is None
    ]


def test_failures_during_a_diagnosis_join_it_and_it_rechecks(
    sandbox: Sandbox, journal: Journal
) -> None:
    sandbox.clock.set(sandbox.clock.now())
    ctx = fast_context(sandbox, journal=journal)
    bootstrap.configure(context=ctx)
    pausing = PausingRegistry(ctx.registry, Worker())
    holder = dataclasses.replace(ctx, registry=pausing)
    thread, first = in_thread(lambda: react(PULL_FAILURES, pull_failed("pf-first"), holder))
    assert pausing.entered.wait(timeout=30)
    # an Event Grid delivery and the alert webhook while the diagnosis runs: both succeed
    joined = react(PULL_FAILURES, pull_failed("pf-during"), ctx)
    assert joined.status is ReactionStatus.DUPLICATE and "joined" in joined.reason
    request = func.HttpRequest("POST", "/api/alerts/pull-failures", body=alert_body("burst"))
    response = indexed_functions()["pull_failure_alert"].get_user_function()(
        request, invocation("pull_failure_alert")
    )
    assert response.status_code == 202, response.get_body()
    [answer] = json.loads(response.get_body())["reactions"]
    assert answer["status"] == "duplicate" and "joined" in answer["reason"]
    alert_signal = f"alert-burst-contosocache-{REPOSITORY}"
    pending = journal.pending_signal(journal.pending_signals()[0].key)
    assert pending is not None and pending.signal_id == alert_signal  # the newest one is kept
    for signal_id in ("pf-during", alert_signal):
        [outcome] = closing(journal, signal_id)
        assert outcome.status is OutcomeStatus.NO_CHANGE and "joined" in outcome.reason
    pausing.go.set()
    thread.join(timeout=60)
    assert isinstance(first[0], Reaction), first
    assert first[0].status is ReactionStatus.REPORTED
    assert pausing.reads == 2  # the diagnosis, then one re-check for the failures that joined
    [recheck] = closing(journal, f"{alert_signal}/recheck")
    assert recheck.status is OutcomeStatus.NO_CHANGE  # report mode: findings recorded
    assert journal.pending_signals() == []
    assert len(closing(journal, "pf-first")) == 1


@pytest.mark.azurite
def test_a_burst_on_many_workers_answers_success_and_leaves_nothing_pending(
    sandbox: Sandbox, connection_string: str, table: str
) -> None:
    """16 workers, each with its own Table Storage client, receive a PullFailed event for the
    same credential set at the same moment, while ARM answers slowly."""
    sandbox.clock.set(sandbox.clock.now())
    sandbox.faults.latency(30)
    workers = [
        fast_context(sandbox, journal=TableJournal(tables_service(connection_string), table))
        for _ in range(16)
    ]
    workers[0].journal.pending_signal("warm-up")  # create the table first
    ids = [f"pf-{uuid.uuid4().hex[:8]}" for _ in workers]
    start = threading.Barrier(len(workers))
    answers: list[Any] = [None] * len(workers)

    def deliver(n: int) -> None:
        start.wait(timeout=10)
        try:
            answers[n] = react(PULL_FAILURES, pull_failed(ids[n]), workers[n])
        except BaseException as error:  # asserted below: no delivery may fail
            answers[n] = error

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(a, Reaction) for a in answers), answers
    journal = workers[0].journal
    statuses = sorted(a.status.value for a in answers)
    assert statuses.count("reported") == 1, statuses  # one diagnosis; the rest joined or came late
    for signal_id in ids:
        assert len(closing(journal, signal_id)) == 1, signal_id
    from shared.services.pull_failures import sweep_pending

    sweep_pending(workers[0])  # whatever arrived as the diagnosis finished
    assert journal.pending_signals() == []
