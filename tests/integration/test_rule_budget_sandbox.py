"""Rule budgets: one signal creates at most MAX_RULES_PER_SIGNAL cache rules, a registry at most
MAX_RULES_PER_REGISTRY_HOUR per UTC hour; the rest is recorded `deferred` and reported.

Through the real webhook and admin functions, the real SDK clients against the sandbox, and the
journal in memory or on Azurite (two workers with clients of their own).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import azure.functions as func
import pytest
from azure.data.tables import TableServiceClient

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TableJournal
from shared.domain.plans import OutcomeStatus
from shared.ports import Journal
from shared.services import Context
from shared.services.reactions import react_to_alert
from tests.conftest import load_event
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, demo_settings
from tests.integration.conftest_tables import service_fixture, table_fixture
from tests.soak.wiring import fast_context

__all__ = ["service_fixture", "table_fixture"]

FABRIKAM = REGISTRIES["fabrikamcache"]
START = datetime(2026, 11, 23, 12, 40, tzinfo=UTC)  # 20 minutes before the hour turns


def alert(repositories: list[str], alert_id: str = "a-40") -> bytes:
    """A fired log-search alert split by Repository, one dimension set per failing repository."""
    payload: Any = load_event("azure-monitor.commonAlertSchema.logAlertsV2.json")
    essentials = payload["data"]["essentials"]
    essentials["alertId"] = (
        f"/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/{alert_id}"
    )
    essentials["alertTargetIDs"] = [FABRIKAM]
    template = payload["data"]["alertContext"]["condition"]["allOf"][0]
    payload["data"]["alertContext"]["condition"]["allOf"] = [
        {**template, "dimensions": [{"name": "Repository", "value": repository},
                                    {"name": "Status", "value": "404"}]}
        for repository in repositories
    ]  # fmt: skip
    return json.dumps(payload).encode()


def new_repositories(count: int, prefix: str = "team") -> list[str]:
    return [f"mcr/{prefix}/app{i:02d}" for i in range(count)]


def call(name: str, url: str, body: bytes) -> func.HttpResponse:
    request = func.HttpRequest("POST", url, body=body, params={}, headers={})
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def wire(sandbox: Sandbox, journal: Journal | None = None, **settings: str) -> Context:
    sandbox.clock.set(START)
    ctx = fast_context(sandbox, settings=demo_settings(**settings), journal=journal)
    bootstrap.configure(context=ctx)
    return ctx


@pytest.fixture(autouse=True)
def unwire() -> Iterator[None]:
    yield
    bootstrap.reset()


def rule_puts(sandbox: Sandbox) -> list[Any]:
    return [w for w in sandbox.log.writes("/cacheRules/") if w.method == "PUT"]


def test_an_alert_naming_40_new_repositories_creates_at_most_the_signal_s_budget(
    sandbox: Sandbox,
) -> None:
    journal = MemoryJournal()
    wire(sandbox, journal)
    repositories = new_repositories(40)
    body = alert(repositories)
    response = call("pull_failure_alert", "/api/alerts/pull-failures", body)
    assert response.status_code == 202
    reactions = json.loads(response.get_body())["reactions"]
    statuses = [r["status"] for r in reactions]
    assert statuses == ["applied"] * 10 + ["deferred"] * 30  # MAX_RULES_PER_SIGNAL = 10
    assert len(rule_puts(sandbox)) == 10
    assert len(sandbox.registry("fabrikamcache").cache_rules) == 2 + 10
    deferred = [o for o in journal.outcome_log if o.status is OutcomeStatus.DEFERRED]
    assert sorted(o.resource for o in deferred) == sorted(
        f"fabrikamcache/mcr.microsoft.com/{r.removeprefix('mcr/')}" for r in repositories[10:]
    )
    assert all("MAX_RULES_PER_SIGNAL" in o.reason for o in deferred)
    reported = [f for _, _, f in journal.finding_log if f.kind == "cache-rule-deferred"]
    assert len(reported) == 30 and all(f.fix for f in reported)
    # the same alert delivered again: its budget is spent, nothing more is created
    again = call("pull_failure_alert", "/api/alerts/pull-failures", body)
    statuses = [r["status"] for r in json.loads(again.get_body())["reactions"]]
    assert "applied" not in statuses and statuses[10:] == ["deferred"] * 30
    assert len(rule_puts(sandbox)) == 10


def test_a_registry_s_hourly_budget_answers_429_until_the_hour_turns(sandbox: Sandbox) -> None:
    journal = MemoryJournal()
    wire(sandbox, journal, MAX_RULES_PER_REGISTRY_HOUR="3")

    def ask(upstream: str) -> func.HttpResponse:
        body = json.dumps({"upstream": upstream, "registry": "fabrikamcache"}).encode()
        return call("request_repository", "/api/repositories", body)

    answers = [ask(f"mcr.microsoft.com/hourly/app{i}") for i in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    refused = ask("mcr.microsoft.com/hourly/app3")
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == str(20 * 60)  # when the UTC hour turns
    problem = json.loads(refused.get_body())
    assert problem["status"] == 429 and "MAX_RULES_PER_REGISTRY_HOUR" in problem["detail"]
    assert len(rule_puts(sandbox)) == 3
    (deferred,) = [o for o in journal.outcome_log if o.status is OutcomeStatus.DEFERRED]
    assert deferred.resource == "fabrikamcache/mcr.microsoft.com/hourly/app3"
    # another registry has its own budget
    other = call("request_repository", "/api/repositories",
                 json.dumps({"upstream": "mcr.microsoft.com/hourly/app3", "registry": "contosocache"}).encode())  # fmt: skip
    assert other.status_code == 201
    sandbox.clock.advance(20 * 60)
    assert ask("mcr.microsoft.com/hourly/app3").status_code == 201


def test_a_failed_create_gives_its_units_back(sandbox: Sandbox) -> None:
    journal = MemoryJournal()
    wire(sandbox, journal, MAX_RULES_PER_REGISTRY_HOUR="1")
    sandbox.faults.script(r"/cacheRules/", "503", count=4, method="PUT")  # every SDK attempt
    body = json.dumps({"upstream": "mcr.microsoft.com/flaky/app", "registry": "fabrikamcache"})
    failed = call("request_repository", "/api/repositories", body.encode())
    assert failed.status_code == 503
    assert call("request_repository", "/api/repositories", body.encode()).status_code == 201


def test_two_workers_on_table_storage_never_create_more_than_the_registry_s_budget(
    sandbox: Sandbox, service: TableServiceClient, table: str
) -> None:
    """Two alerts of 10 new repositories each, delivered at once to two workers, each with its
    own Table Storage client: exactly MAX_RULES_PER_REGISTRY_HOUR rules are created."""
    sandbox.clock.set(START)
    settings = demo_settings(MAX_RULES_PER_REGISTRY_HOUR="12")
    workers = [
        fast_context(sandbox, settings=settings, journal=TableJournal(service, table))
        for _ in range(2)
    ]
    bodies = [
        json.loads(alert(new_repositories(10, prefix=f"w{n}"), alert_id=f"a-{n}")) for n in range(2)
    ]
    start = threading.Barrier(2)
    answers: list[list[Any]] = [[], []]
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        try:
            start.wait(timeout=10)
            answers[n] = react_to_alert(bodies[n], workers[n])
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    statuses = [r.status.value for batch in answers for r in batch]
    assert statuses.count("applied") == 12 and statuses.count("deferred") == 8
    assert len(rule_puts(sandbox)) == 12
    assert len(sandbox.registry("fabrikamcache").cache_rules) == 2 + 12
    # the next hour has a budget of its own
    sandbox.clock.advance(timedelta(minutes=20).total_seconds())
    later = react_to_alert(bodies[0], workers[0])
    assert [r.status.value for r in later].count("applied") == 10 - statuses[:10].count("applied")
