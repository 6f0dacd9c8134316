"""GET /api/history as the worker calls it, over the demo sandbox: what a sync did shows up on
today's bar and in the credential set's rotations; a bad `days` is a 400 problem and reads
nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    bootstrap.configure(context=sandbox_context(sandbox, settings=demo_settings()))
    yield
    bootstrap.reset()


def call(name: str, method: str, *, params: dict[str, str] | None = None,
         route: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    request = func.HttpRequest(method, f"/api/{name}", body=b"", params=params or {},
                               route_params=route or {})  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def body(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def test_a_sync_shows_on_todays_bar_and_in_the_rotations(sandbox: Sandbox) -> None:
    before = body(call("history", "GET", params={"days": "1"}))
    assert before["rotations"] == []
    assert sum(before["actionsPerDay"][0]["byKind"].values()) == 0
    synced = call(
        "sync_credential_set", "POST", route={"registry": "contosocache", "name": "ghcr-acme"}
    )
    assert synced.status_code == 200, synced.get_body()
    after = body(call("history", "GET", params={"days": "1"}))
    [today] = after["actionsPerDay"]
    assert today["byKind"]["update-credential-set"] == 1
    [moved] = after["rotations"]
    assert moved["credentialSet"].endswith("/credentialSets/ghcr-acme")
    [rotation] = moved["rotations"]
    assert rotation["password"]["from"] != rotation["password"]["to"]
    assert rotation["signalId"] == body(synced)["outcomes"][0]["signalId"]


@pytest.mark.parametrize("days", ["0", "32", "abc", "-1", "1e3", "99999999999"])
def test_a_bad_number_of_days_is_a_400_problem(days: str) -> None:
    response = call("history", "GET", params={"days": days})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "days" in body(response)["detail"]
