"""The fanned-out audit: work items, per-registry results, and one assembled report per run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.adapters.memory import MemoryFanoutStore, MemoryReportStore
from shared.domain.fanout import WorkItem, parse_work_item
from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError
from shared.services.fanout import assemble_if_done, audit_work_item, record_poisoned, start_run
from tests.fakes import CONTOSO, FABRIKAM, World, make_world


def fanned_out() -> tuple[World, MemoryFanoutStore, MemoryReportStore]:
    world = make_world()
    store, reports = MemoryFanoutStore(), MemoryReportStore()
    world.ctx = replace(world.ctx, fanout=store, reports=reports)
    return world, store, reports


def test_a_run_has_one_work_item_per_managed_registry() -> None:
    world, store, _ = fanned_out()
    messages = start_run(world.ctx)
    items = [parse_work_item(m) for m in messages]
    assert [i.registry for i in items] == [CONTOSO, FABRIKAM]
    assert len({i.run_id for i in items}) == 1
    assert store.get_run(items[0].run_id).registries == (CONTOSO, FABRIKAM)


def test_the_last_result_assembles_one_complete_report() -> None:
    world, _store, reports = fanned_out()
    first, second = start_run(world.ctx)
    assert audit_work_item(world.ctx, first) is None  # one registry still to come
    assert reports.latest_report() is None
    report = audit_work_item(world.ctx, second)
    assert report is not None and report["complete"] is True and report["missing"] == []
    assert report["registries"] == ["contosocache", "fabrikamcache"]
    assert reports.get_report(report["id"])["complete"] is True
    # a redelivered work item neither audits again nor assembles a second report
    assert audit_work_item(world.ctx, second) is None
    assert len(reports.reports) == 1


def test_a_poisoned_work_item_makes_the_report_partial_and_is_a_finding() -> None:
    world, _store, _reports = fanned_out()
    first, second = start_run(world.ctx)
    audit_work_item(world.ctx, first)
    report = record_poisoned(world.ctx, second, attempts=5)
    assert report is not None and report["complete"] is False
    assert [m["registry"] for m in report["missing"]] == [str(FABRIKAM)]
    assert "failed 5 times" in report["missing"][0]["why"]
    poisoned = [f for f in report["findings"] if f["kind"] == "audit-work-item-poisoned"]
    assert [f["resource"] for f in poisoned] == [str(FABRIKAM)]
    journaled = [f.kind for f in world.journal.findings()]
    assert journaled.count("audit-work-item-poisoned") == 1


def test_a_run_left_open_is_assembled_as_partial_when_the_next_starts() -> None:
    world, _store, reports = fanned_out()
    first, _ = start_run(world.ctx)
    audit_work_item(world.ctx, first)
    start_run(world.ctx)
    (report,) = reports.reports.values()
    assert report["complete"] is False
    assert report["missing"][0]["status"] == "unfinished"
    assert assemble_if_done(world.ctx, report["id"], force=True) is None  # closed once


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"runId": "x"}',
        b'{"runId": 1, "registry": "/x"}',
        b'{"runId": "r", "registry": "not-an-id"}',
        b'{"runId": "r", "registry": "/subscriptions/s", "extra": 1}',
        b"x" * 5000,
    ],
)
def test_unreadable_work_items_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidInputError):
        parse_work_item(body)


def test_unreadable_or_foreign_work_items_are_acknowledged_and_change_nothing() -> None:
    world, store, reports = fanned_out()
    start_run(world.ctx)
    (run,) = store.open_runs()
    assert audit_work_item(world.ctx, b"garbage") is None
    assert audit_work_item(world.ctx, WorkItem("audit-unknown", CONTOSO).to_message()) is None
    other = ResourceId.parse(str(CONTOSO).replace("contosocache", "notmanaged"))
    assert audit_work_item(world.ctx, WorkItem(run.run_id, other).to_message()) is None
    assert record_poisoned(world.ctx, b"garbage", attempts=5) is None
    assert store.results(run.run_id) == {}
    assert reports.reports == {}
