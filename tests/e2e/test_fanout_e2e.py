"""The fanned-out audit end to end: the app under the local host (embedded demo sandbox, Azurite
tables and queues started by the host). The audit timer enqueues one work item per managed
registry; the host's queue listener runs the queue-triggered audits; one report is assembled.
A registry whose audit keeps failing is retried maxDequeueCount times, moved to the poison queue
by the host, and reported as missing, with a finding."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import HostProcess, demo_host
from tests.e2e.test_reactions_e2e import post

QUEUES = "AzureFunctionsJobHost__extensions__queues__"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    # host.json overrides as app settings, as the Functions host reads them: failed messages are
    # visible again at once, and an idle queue is polled at least every second.
    overrides = {
        f"{QUEUES}visibilityTimeout": "00:00:00",
        f"{QUEUES}maxPollingInterval": "00:00:01",
    }
    with demo_host(tmp_path_factory.mktemp("fanout"), **overrides) as process:
        yield process


def latest_id(host: HostProcess) -> str | None:
    reply = host.request("GET", "/api/audit/latest")
    return str(reply.json()["id"]) if reply.status == 200 else None


def run_timer_and_wait(host: HostProcess) -> dict[str, Any]:
    before = latest_id(host)
    reply = host.request("POST", "/admin/functions/audit_timer", body=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status == 202, host.output()[-3000:]
    for _ in range(600):  # bounded: 600 polls of the report, whatever they take
        reply = host.request("GET", "/api/audit/latest")
        if reply.status == 200 and reply.json()["id"] != before:
            report: dict[str, Any] = reply.json()
            return report
        time.sleep(0.1)
    raise AssertionError("no report was assembled:\n" + host.output()[-4000:])


def test_the_timer_fans_out_and_one_complete_report_is_assembled(host: HostProcess) -> None:
    report = run_timer_and_wait(host)
    assert report["fannedOut"] is True and report["complete"] is True, report["missing"]
    assert report["registries"] == ["contosocache", "fabrikamcache"]
    kinds = {f["kind"] for f in report["findings"]}
    assert "unhealthy-credential-set" in kinds  # the demo's seeded problems are found
    assert host.output().count("Executed 'Functions.audit_registry' (Succeeded") == 2


def test_a_poisoned_work_item_gives_a_partial_report_with_the_poison_as_a_finding(
    host: HostProcess,
) -> None:
    fault = {"kind": "403", "pattern": "registries/fabrikamcache", "rate": 1.0}
    assert post(host, "/_sandbox/faults", fault).status == 200
    try:
        report = run_timer_and_wait(host)
    finally:
        host.request("DELETE", "/_sandbox/faults")
    assert report["complete"] is False
    (missing,) = report["missing"]
    assert missing["registry"].endswith("/fabrikamcache") and missing["status"] == "poisoned"
    assert "failed 5 times" in missing["why"]
    poisoned = [f for f in report["findings"] if f["kind"] == "audit-work-item-poisoned"]
    assert [f["resource"].rsplit("/", 1)[-1] for f in poisoned] == ["fabrikamcache"]
    log = host.output()
    assert log.count("Executed 'Functions.audit_registry' (Failed)") == 5  # maxDequeueCount
    assert "Moving message to queue 'cachekeeper-audit-poison'" in log
    journal = host.request("GET", "/api/journal?limit=100").json()
    assert "audit-work-item-poisoned" in {f["kind"] for f in journal["findings"]}
