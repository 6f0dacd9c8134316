"""The fan-out store on Azurite: runs, first-result-wins, one closer per run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from azure.data.tables import TableServiceClient

from shared.adapters.tables import TableFanoutStore
from shared.domain.fanout import RegistryResult, Run
from tests.fakes import CONTOSO, FABRIKAM, NOW
from tests.integration.conftest_tables import service_fixture, table_fixture

__all__ = ["service_fixture", "table_fixture"]


def test_runs_and_results_round_trip_and_the_first_result_wins(
    service: TableServiceClient, table: str
) -> None:
    store = TableFanoutStore(service, table)
    run = Run("audit-1", NOW, (CONTOSO, FABRIKAM))
    store.save_run(run)
    store.save_run(run)  # a retried timer records nothing twice
    assert store.get_run("audit-1") == run
    assert [r.run_id for r in store.open_runs()] == ["audit-1"]
    audited = RegistryResult(
        CONTOSO, "audited", NOW, ({"kind": "k", "severity": "warning"},), {"actions": 1}
    )
    assert store.save_result("audit-1", audited) is True
    later = RegistryResult(CONTOSO, "poisoned", NOW, reason="late")
    assert store.save_result("audit-1", later) is False
    assert store.results("audit-1") == {str(CONTOSO).lower(): audited}


def test_exactly_one_of_many_concurrent_closers_closes_the_run(
    service: TableServiceClient, table: str
) -> None:
    store = TableFanoutStore(service, table)
    store.save_run(Run("audit-2", NOW, (CONTOSO,)))
    with ThreadPoolExecutor(max_workers=6) as pool:
        closed = list(pool.map(lambda _: store.close_run("audit-2"), range(6)))
    assert closed.count(True) == 1
    assert store.open_runs() == []
