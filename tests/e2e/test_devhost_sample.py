"""The local host serves a small test app over real HTTP: routes, Event Grid, admin runs, timers."""

from __future__ import annotations

import copy
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.host_process import EVENTS, HostProcess, host_env, run_to_exit

SAMPLE_APP = "tests.e2e.sample_app:app"
EVENTGRID_EVENT = EVENTS / "keyvault.SecretNewVersionCreated.eventgrid.json"
CLOUD_EVENT = EVENTS / "keyvault.SecretNewVersionCreated.cloudevents.json"
VALIDATION_EVENT = EVENTS / "eventgrid.SubscriptionValidationEvent.json"
NOTIFICATION = {"aeg-event-type": "Notification", "Content-Type": "application/json"}
WEBHOOK = "/runtime/webhooks/EventGrid?functionName=on_event"


@dataclass
class Sample:
    host: HostProcess
    records_path: Path

    def records(self, function: str) -> list[dict[str, Any]]:
        if not self.records_path.exists():
            return []
        lines = self.records_path.read_text().splitlines()
        return [entry for entry in map(json.loads, lines) if entry["function"] == function]


def _start(tmp: Path, *extra: str) -> Sample:
    records = tmp / "records.jsonl"
    settings = tmp / "settings.json"
    values = {"SAMPLE_SCHEDULE": "* * * * * *", "SAMPLE_RECORD_FILE": str(records)}
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    args = ["--app", SAMPLE_APP, "--settings", str(settings), *extra]
    return Sample(HostProcess(args, host_env(), tmp / "host.log"), records)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    started = _start(tmp_path_factory.mktemp("sample"))
    try:
        started.host.wait_ready(timeout=30)
        yield started
    finally:
        started.host.stop()


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    started = _start(tmp_path_factory.mktemp("quiet"), "--no-timers")
    try:
        started.host.wait_ready(timeout=30)
        yield started
    finally:
        started.host.stop()


def _event(path: Path, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text())
    event = copy.deepcopy(event)
    event.update(changes)
    return event


# --- HTTP triggers ---------------------------------------------------------------------------


def test_route_parameters_query_and_body_reach_the_function(sample: Sample) -> None:
    reply = sample.host.request("PUT", "/api/items/42/blue?x=1&x=2&y=", body=b"hello")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-sample"] == "1"
    assert reply.json() == {
        "route": {"id": "42", "label": "blue"},
        "params": {"x": "1,2", "y": ""},
        "method": "PUT",
        "body": "hello",
    }


def test_optional_parameter_may_be_left_out(sample: Sample) -> None:
    reply = sample.host.request("GET", "/api/items/7")
    assert reply.status == 200
    assert reply.json()["route"] == {"id": "7"}


def test_int_constraint_refuses_other_values_with_problem_json(sample: Sample) -> None:
    reply = sample.host.request("GET", "/api/items/seven")
    assert reply.status == 404
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["status"] == 404


def test_unknown_path_is_404_problem_json(sample: Sample) -> None:
    for path in ("/api/nothing-here", "/elsewhere"):
        reply = sample.host.request("GET", path)
        assert reply.status == 404
        assert reply.headers["content-type"] == "application/problem+json"


def test_wrong_method_is_405_with_allow(sample: Sample) -> None:
    reply = sample.host.request("DELETE", "/api/items/7")
    assert reply.status == 405
    assert {m.strip() for m in reply.headers["allow"].split(",")} == {"GET", "PUT"}


def test_async_function_with_catch_all_route(sample: Sample) -> None:
    reply = sample.host.request("GET", "/api/files/a/b/c.txt")
    assert reply.status == 200
    assert reply.body == b"a/b/c.txt"
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


def test_raising_function_gives_a_generic_500(sample: Sample) -> None:
    reply = sample.host.request("POST", "/api/boom", body=b"{}")
    assert reply.status == 500
    assert b"secret-internal-detail" not in reply.body
    assert b"Traceback" not in reply.body
    assert "secret-internal-detail" in sample.host.output()  # logged locally instead


# --- Event Grid ------------------------------------------------------------------------------


def test_event_grid_schema_event_is_delivered(sample: Sample) -> None:
    before = len(sample.records("on_event"))
    reply = sample.host.request(
        "POST", WEBHOOK, body=EVENTGRID_EVENT.read_bytes(), headers=NOTIFICATION
    )
    assert reply.status == 202
    expected = json.loads(EVENTGRID_EVENT.read_text())
    [record] = sample.records("on_event")[before:]
    assert record["id"] == expected["id"]
    assert record["type"] == "Microsoft.KeyVault.SecretNewVersionCreated"
    assert record["data"] == expected["data"]


def test_cloud_event_is_delivered(sample: Sample) -> None:
    before = len(sample.records("on_event"))
    headers = {"aeg-event-type": "Notification", "Content-Type": "application/cloudevents+json"}
    lower_path = "/runtime/webhooks/eventgrid?functionName=on_event"
    reply = sample.host.request("POST", lower_path, body=CLOUD_EVENT.read_bytes(), headers=headers)
    assert reply.status == 202
    expected = json.loads(CLOUD_EVENT.read_text())
    [record] = sample.records("on_event")[before:]
    assert (record["id"], record["type"]) == (expected["id"], expected["type"])
    assert record["data"] == expected["data"]


def test_a_batch_invokes_once_per_event_in_order(sample: Sample) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    batch = [_event(EVENTGRID_EVENT, id=event_id) for event_id in ids]
    before = len(sample.records("on_event"))
    reply = sample.host.request(
        "POST", WEBHOOK, body=json.dumps(batch).encode(), headers=NOTIFICATION
    )
    assert reply.status == 202
    assert [r["id"] for r in sample.records("on_event")[before:]] == ids


def test_a_failing_event_gives_500_and_stops_the_batch(sample: Sample) -> None:
    good, bad, later = (str(uuid.uuid4()) for _ in range(3))
    batch = [
        _event(CLOUD_EVENT, id=good),
        _event(CLOUD_EVENT, id=bad, data={"fail": True}),
        _event(CLOUD_EVENT, id=later),
    ]
    headers = {
        "aeg-event-type": "Notification",
        "Content-Type": "application/cloudevents-batch+json",
    }
    before = len(sample.records("on_event"))
    reply = sample.host.request("POST", WEBHOOK, body=json.dumps(batch).encode(), headers=headers)
    assert reply.status == 500
    assert b"asked to fail" not in reply.body
    assert [r["id"] for r in sample.records("on_event")[before:]] == [good]


def test_subscription_validation_handshake(sample: Sample) -> None:
    code = json.loads(VALIDATION_EVENT.read_text())[0]["data"]["validationCode"]
    headers = {"aeg-event-type": "SubscriptionValidation", "Content-Type": "application/json"}
    before = len(sample.records("on_event"))
    reply = sample.host.request(
        "POST", WEBHOOK, body=VALIDATION_EVENT.read_bytes(), headers=headers
    )
    assert reply.status == 200
    assert reply.json() == {"validationResponse": code}
    assert len(sample.records("on_event")) == before  # the function is not invoked


def test_cloudevents_abuse_protection_handshake(sample: Sample) -> None:
    origin = "eventgrid.azure.net"
    reply = sample.host.request("OPTIONS", WEBHOOK, headers={"WebHook-Request-Origin": origin})
    assert reply.status == 200
    assert reply.headers["webhook-allowed-origin"] == origin
    assert reply.headers["webhook-allowed-rate"] == "*"


def test_missing_event_type_header_is_400(sample: Sample) -> None:
    before = len(sample.records("on_event"))
    reply = sample.host.request(
        "POST",
        WEBHOOK,
        body=EVENTGRID_EVENT.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert reply.status == 400
    assert len(sample.records("on_event")) == before


def test_unknown_event_grid_function_is_404(sample: Sample) -> None:
    path = "/runtime/webhooks/EventGrid?functionName=nope"
    reply = sample.host.request(
        "POST", path, body=EVENTGRID_EVENT.read_bytes(), headers=NOTIFICATION
    )
    assert reply.status == 404


# --- timers and admin runs -------------------------------------------------------------------


def test_timer_fires_every_second_on_the_second(sample: Sample) -> None:
    deadline = time.monotonic() + 6
    while len(sample.records("tick")) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    ticks = [r["at"] for r in sample.records("tick")]
    assert len(ticks) >= 3, sample.host.output()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert all(0.5 < gap < 1.6 for gap in gaps), gaps
    assert all(at % 1 < 0.5 for at in ticks), ticks  # on (just after) whole seconds
    assert "Executing 'Functions.tick'" in sample.host.output()


def test_admin_runs_a_timer_by_hand_and_no_timers_keeps_it_quiet(quiet: Sample) -> None:
    time.sleep(1.2)  # a firing schedule would have ticked by now
    assert quiet.records("tick") == []
    reply = quiet.host.request("POST", "/admin/functions/tick", body=b'{"input": ""}')
    assert reply.status == 202
    assert [r["past_due"] for r in quiet.records("tick")] == [False]


def test_admin_runs_an_event_grid_function_with_one_event(quiet: Sample) -> None:
    event_id = str(uuid.uuid4())
    body = json.dumps({"input": json.dumps(_event(EVENTGRID_EVENT, id=event_id))}).encode()
    reply = quiet.host.request("POST", "/admin/functions/on_event", body=body)
    assert reply.status == 202
    assert [r["id"] for r in quiet.records("on_event")] == [event_id]


def test_admin_refuses_unknown_functions_and_reports_failures(quiet: Sample) -> None:
    assert quiet.host.request("POST", "/admin/functions/nope", body=b"{}").status == 404
    failing = json.dumps({"input": json.dumps(_event(CLOUD_EVENT, data={"fail": True}))})
    assert (
        quiet.host.request("POST", "/admin/functions/on_event", body=failing.encode()).status == 500
    )
    assert (
        quiet.host.request("POST", "/admin/functions/on_event", body=b'{"input": "x"}').status
        == 400
    )


# --- start-up failures -----------------------------------------------------------------------


def test_unresolvable_schedule_setting_stops_start_up(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Values": {"SAMPLE_RECORD_FILE": str(tmp_path / "r")}}))
    result = run_to_exit(["--app", SAMPLE_APP, "--settings", str(settings)], host_env())
    assert result.returncode == 2, result.stderr
    assert "SAMPLE_SCHEDULE" in result.stderr


def test_routes_that_overlap_stop_start_up_naming_both(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"Values": {}}))
    app = "tests.e2e.overlapping_app:app"
    result = run_to_exit(["--app", app, "--settings", str(settings)], host_env())
    assert result.returncode == 2, result.stderr
    assert "'audit/latest' and 'audit/{id}' (GET)" in result.stderr or (
        "'audit/{id}' and 'audit/latest' (GET)" in result.stderr
    ), result.stderr


@pytest.mark.parametrize("schedule", ["0 0 9 * * 7", "0 0 9 * * 5-7", "0\t0 9 * * *"])
def test_a_schedule_the_host_would_refuse_stops_start_up(tmp_path: Path, schedule: str) -> None:
    settings = tmp_path / "settings.json"
    values = {"SAMPLE_SCHEDULE": schedule, "SAMPLE_RECORD_FILE": str(tmp_path / "r")}
    settings.write_text(json.dumps({"Values": values}))
    result = run_to_exit(["--app", SAMPLE_APP, "--settings", str(settings)], host_env())
    assert result.returncode == 2, result.stderr
    assert "timer function" in result.stderr
