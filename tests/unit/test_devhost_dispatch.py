"""Request dispatch of the local host, without sockets: host routes, prefix, sandbox mount."""

from __future__ import annotations

import json

import azure.functions as func

from devhost.app_index import index_app
from devhost.routing import Router
from devhost.server import HostState, Incoming, dispatch

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.function_name("echo")
@app.route(route="echo/{word}", methods=["GET"])
def echo(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(req.route_params["word"], mimetype="text/html")


@app.function_name("nothing")
@app.route(route="nothing")
def nothing(req: func.HttpRequest) -> None:
    return None


# Indexed once: the library refuses a second get_functions() on the same app.
SPECS = index_app(app)


def state(*, prefix: str = "api", sandbox: bool = False) -> HostState:
    specs = SPECS
    router = Router((s.route or "", s.methods, s) for s in specs if s.kind == "http")
    return HostState({s.name.lower(): s for s in specs}, router, prefix, sandbox_mounted=sandbox)


def get(host: HostState, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    reply = dispatch(host, Incoming(method, target, {"host": "localhost:7071"}, b""))
    return reply.status, dict(reply.headers), reply.body


def test_text_mimetypes_get_the_charset_like_the_worker_adds() -> None:
    status, headers, body = get(state(), "/api/echo/hi")
    assert (status, body) == (200, b"hi")
    assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_route_prefix_from_host_json_is_respected() -> None:
    assert get(state(prefix=""), "/echo/hi")[0] == 200
    assert get(state(prefix=""), "/api/echo/hi")[0] == 404
    assert get(state(prefix="v1"), "/V1/echo/hi")[0] == 200


def test_a_function_returning_none_answers_204() -> None:
    assert get(state(), "/api/nothing", method="DELETE")[0] == 204


def test_sandbox_is_not_mounted_outside_sandbox_mode() -> None:
    status, headers, body = get(state(sandbox=False), "/_sandbox/subscriptions")
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert "sandbox not available" in json.loads(body)["detail"]


def test_admin_refuses_http_functions_and_other_methods() -> None:
    assert dispatch(state(), Incoming("POST", "/admin/functions/echo", {}, b"{}")).status == 400
    assert get(state(), "/admin/functions/echo")[0] == 405


def test_host_status_answers_running() -> None:
    status, _, body = get(state(), "/admin/host/status")
    assert status == 200
    assert json.loads(body)["state"] == "Running"
