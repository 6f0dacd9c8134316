"""History reads, on the in-memory journal and on Table Storage (Azurite) alike: outcomes since
a time page by page (newest first, each once, none older), findings with their time and signal,
kept reports since a time."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.data.tables import TableServiceClient

from devhost.azurite import Azurite
from shared.adapters.memory import MemoryJournal, MemoryReportStore
from shared.adapters.tables import TableJournal, TableReportStore, tables_service
from shared.domain.plans import ActionKind, Finding, Outcome, OutcomeStatus, Severity
from shared.errors import InvalidInputError
from shared.ports import Journal, ReportStore
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    connection_string_fixture,
    service_fixture,
    table_fixture,
)

START = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture(params=["memory", "tables"])
def journal(request: pytest.FixtureRequest) -> Iterator[Journal]:
    if request.param == "memory":
        yield MemoryJournal()
        return
    service: TableServiceClient = request.getfixturevalue("service")
    yield TableJournal(service, request.getfixturevalue("table"))


@pytest.fixture(params=["memory", "tables"])
def reports(request: pytest.FixtureRequest) -> ReportStore:
    if request.param == "memory":
        return MemoryReportStore()
    azurite: Azurite = request.getfixturevalue("azurite")
    service = tables_service(azurite.connection_string, retry_total=0)
    return TableReportStore(service, f"h{uuid.uuid4().hex[:12]}")


def outcome(n: int, at: datetime) -> Outcome:
    return Outcome(f"evt-{n}", f"/subscriptions/s/x/credentialSets/c{n % 3}", OutcomeStatus.SUCCEEDED,
                   f"step {n}", at, ActionKind.UPDATE_CREDENTIAL_SET)  # fmt: skip


def seeded(journal: Journal) -> list[Outcome]:
    """Seven days of outcomes, five a day (the same instant twice on one day)."""
    made = []
    for n in range(35):
        at = START + timedelta(days=n // 5, hours=n % 5)
        made.append(outcome(n, at if n != 11 else START + timedelta(days=2, hours=0)))
    for item in made:
        journal.record_outcome(item)
    return made


def test_pages_read_every_outcome_since_once_newest_first_and_nothing_older(
    journal: Journal,
) -> None:
    made = seeded(journal)
    since = START + timedelta(days=2)
    read: list[Outcome] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = journal.outcome_page(since=since, limit=4, cursor=cursor)
        read.extend(page.outcomes)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    wanted = [o for o in made if o.at >= since]
    assert sorted(o.signal_id for o in read) == sorted(o.signal_id for o in wanted)
    assert len(read) == len({o.signal_id for o in read}) == 25
    assert [o.at for o in read] == sorted((o.at for o in read), reverse=True)
    assert pages in (7, 8)  # 25 rows, 4 a page (a last empty page is allowed)


def test_a_cursor_the_journal_did_not_give_is_refused(journal: Journal) -> None:
    seeded(journal)
    with pytest.raises(InvalidInputError):
        journal.outcome_page(since=START, limit=5, cursor="outcome-0|' or 1 eq 1")


def test_findings_carry_when_and_by_which_signal_they_were_recorded(journal: Journal) -> None:
    for day in range(3):
        finding = Finding(
            "secret-expiry", Severity.WARNING, f"secret-{day}", "expires soon", "rotate"
        )
        journal.record_finding(finding, signal_id=f"sig-{day}", at=START + timedelta(days=day))
    recorded = journal.recorded_findings(since=START + timedelta(days=1))
    assert [(r.signal_id, r.at, r.finding.resource) for r in recorded] == [
        ("sig-2", START + timedelta(days=2), "secret-2"),
        ("sig-1", START + timedelta(days=1), "secret-1"),
    ]
    assert recorded[0].to_dict()["signalId"] == "sig-2"


def report(n: int) -> dict[str, Any]:
    finished = START + timedelta(hours=6 * n)
    return {"id": f"audit-{n}", "finishedAt": finished.isoformat(), "counts": {}, "findings": []}


def test_reports_since_a_time_newest_first_bounded(reports: ReportStore) -> None:
    for n in range(12):
        reports.save_report(report(n))
    since = START + timedelta(hours=6 * 5)
    assert [r["id"] for r in reports.reports_since(since, limit=100)] == [
        f"audit-{n}" for n in range(11, 4, -1)
    ]
    assert [r["id"] for r in reports.reports_since(since, limit=2)] == ["audit-11", "audit-10"]


def test_rows_of_days_before_the_window_are_not_read(
    service: TableServiceClient, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal = TableJournal(service, table)
    seeded(journal)
    old = START - timedelta(days=3)
    service.get_table_client(table).create_entity({
        "PartitionKey": f"outcome-{99_999_999 - (old.year * 10_000 + old.month * 100 + old.day):08d}",
        "RowKey": "0" * 18 + "-" + "0" * 32, "data": "not json",
    })  # fmt: skip
    with caplog.at_level(logging.WARNING):
        page = journal.outcome_page(since=START, limit=1000)
    assert len(page.outcomes) == 35 and page.cursor is None
    assert "unreadable" not in caplog.text
    with caplog.at_level(logging.WARNING):
        journal.outcomes(limit=1000)  # the unbounded read does reach it, and says so
    assert "unreadable" in caplog.text
