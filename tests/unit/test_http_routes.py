"""`@admin_route` and the error table: what a handler returns or raises becomes the response."""

from __future__ import annotations

import json
import logging
from typing import Any

import azure.functions as func
import pytest

from functions._problems import Problem, problem_response
from functions._routes import PRECONDITION_FAILED, Op, admin_route, operations
from shared.errors import (
    CachekeeperError,
    ConcurrencyError,
    NotFoundError,
    RoleDeniedError,
    ThrottledError,
    UpstreamUnavailableError,
)
from shared.log_context import configure_logging
from shared.services.context import fan_out
from tests.function_index import invocation


def _body(response: func.HttpResponse) -> dict[str, Any]:
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = json.loads(response.get_body())
    assert body["status"] == response.status_code
    return body


def test_a_permanent_error_answers_its_status_class_message_and_code() -> None:
    response = problem_response(NotFoundError("no such row"))
    assert response.status_code == 404
    assert "Retry-After" not in response.headers
    assert _body(response) == {"type": "about:blank", "title": "NotFoundError", "status": 404,
                               "detail": "no such row", "code": "NotFound"}  # fmt: skip


def test_a_transient_error_says_when_to_retry() -> None:
    throttled = problem_response(ThrottledError("slow down", retry_after=7.5))
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    unavailable = problem_response(UpstreamUnavailableError("ARM answered 503"))
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "5")


def test_the_most_specific_class_wins_and_a_route_entry_before_the_table_at_each_class() -> None:
    stale = problem_response(ConcurrencyError("changed"), {ConcurrencyError: PRECONDITION_FAILED})
    assert stale.status_code == 412 and "Retry-After" not in stale.headers
    assert _body(stale)["title"] == "PreconditionFailed"
    assert _body(stale)["code"] == "ConcurrencyConflict"
    general = {CachekeeperError: Problem(status=418)}
    denied = problem_response(RoleDeniedError("needs the role"), general)
    assert denied.status_code == 403
    assert (_body(denied)["title"], _body(denied)["code"]) == ("Forbidden", "Forbidden")


def test_anything_else_is_logged_and_answered_500_without_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        response = problem_response(KeyError("internal detail"))
    assert response.status_code == 500
    body = _body(response)
    assert body["code"] == "Internal" and "internal detail" not in json.dumps(body)
    assert "unhandled error in an admin endpoint" in caplog.text


def test_a_route_registers_its_trigger_records_its_operations_and_answers_json() -> None:
    bp = func.Blueprint()

    @admin_route(bp, "probe/{id}", name="probe", get=Op("Read"), delete=Op("Remove"))
    def probe(req: func.HttpRequest) -> Any:
        if req.method == "DELETE":
            raise NotFoundError(f"no probe {req.route_params['id']}")
        return {"id": req.route_params["id"]}

    assert [(o.function, o.method, o.route) for o in operations([bp])] == [
        ("probe", "GET", "probe/{id}"), ("probe", "DELETE", "probe/{id}")]  # fmt: skip
    app = func.FunctionApp()
    app.register_functions(bp)
    (function,) = app.get_functions()
    trigger = function.get_trigger().get_dict_repr()
    assert (function.get_function_name(), trigger["route"]) == ("probe", "probe/{id}")
    assert func.AuthLevel(trigger["authLevel"]) is func.AuthLevel.FUNCTION
    serve = function.get_user_function()
    context = invocation("probe")
    got = serve(
        func.HttpRequest("GET", "/api/probe/a", body=b"", route_params={"id": "a"}), context
    )
    assert (got.status_code, json.loads(got.get_body())) == (200, {"id": "a"})
    gone = serve(
        func.HttpRequest("DELETE", "/api/probe/a", body=b"", route_params={"id": "a"}), context
    )
    assert (gone.status_code, _body(gone)["detail"]) == (404, "no probe a")


def test_every_record_of_a_request_carries_its_invocation_and_request_ids_helper_threads_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure_logging({})
    bp = func.Blueprint()
    probe_log = logging.getLogger("functions.tests.probe")

    @admin_route(bp, "probe-log", name="probe_log", get=Op("Log"))
    def probe_log_route(req: func.HttpRequest) -> Any:
        probe_log.info("in the handler")
        fan_out(lambda n: probe_log.info("helper %d", n), [1, 2])
        return {}

    app = func.FunctionApp()
    app.register_functions(bp)
    (function,) = app.get_functions()
    serve = function.get_user_function()
    caplog.set_level(logging.INFO, logger=probe_log.name)
    headers = {"x-arr-log-id": "4f6c1a2b-0000-4000-8000-00000000abcd"}
    serve(func.HttpRequest("GET", "/api/probe-log", body=b"", headers=headers),
          invocation("probe_log", "invocation-h1"))  # fmt: skip
    forged = {"x-arr-log-id": "not an id\nforged=line"}
    serve(func.HttpRequest("GET", "/api/probe-log", body=b"", headers=forged),
          invocation("probe_log", "invocation-h2"))  # fmt: skip
    ids = [
        (getattr(r, "invocation_id", None), getattr(r, "request_id", None))
        for r in caplog.records
        if r.name == probe_log.name
    ]
    assert ids == [("invocation-h1", headers["x-arr-log-id"])] * 3 + [("invocation-h2", None)] * 3


def test_a_function_is_declared_once() -> None:
    bp = func.Blueprint()
    admin_route(bp, "once", name="once", get=Op("Read"))(lambda req: {})
    with pytest.raises(ValueError, match="declared twice"):
        admin_route(bp, "once", name="once", post=Op("Write"))(lambda req: {})
    with pytest.raises(ValueError, match="no method"):
        admin_route(bp, "none", name="none")
