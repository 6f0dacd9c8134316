"""Audit reports on Azurite: round trip, newest first, large reports trimmed not lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devhost.azurite import Azurite
from shared.adapters.tables import TableReportStore, tables_service
from shared.errors import NotFoundError

pytestmark = pytest.mark.azurite


def report(n: int, *, findings: int = 3, size: int = 10) -> dict[str, Any]:
    finished = datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=n)
    return {"id": f"audit-{n}", "finishedAt": finished.isoformat(), "counts": {"error": findings},
            "findings": [{"kind": "k", "message": "x" * size, "n": i} for i in range(findings)]}  # fmt: skip


@pytest.fixture
def store(azurite: Azurite) -> TableReportStore:
    return TableReportStore(
        tables_service(azurite.connection_string, retry_total=0), f"r{uuid.uuid4().hex[:12]}"
    )


def test_round_trip_and_latest(store: TableReportStore) -> None:
    assert store.latest_report() is None
    for n in (2, 1, 3):
        store.save_report(report(n))
    assert store.latest_report()["id"] == "audit-3"  # type: ignore[index]
    assert store.get_report("audit-1") == report(1)
    with pytest.raises(NotFoundError):
        store.get_report("audit-404")


def test_a_large_report_is_split_and_trimmed_but_keeps_its_counts(store: TableReportStore) -> None:
    big = report(5, findings=2000, size=600)  # ~1.3 MB of JSON
    store.save_report(big)
    loaded = store.get_report("audit-5")
    assert loaded["counts"] == big["counts"]
    assert loaded["findingsTruncated"] is True
    assert 0 < len(loaded["findings"]) < 2000
    medium = report(6, findings=200, size=600)  # ~130 KB: several parts, nothing trimmed
    store.save_report(medium)
    assert store.get_report("audit-6") == medium
