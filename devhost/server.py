"""The HTTP front door: built-in host endpoints, the sandbox mount, then the app's HTTP routes.

Keys are not enforced (as with `func start`). Each request is logged as one line with its method,
path (never the query string, which may carry a `code=` key) and status.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import azure.functions as func

from devhost.app_index import FunctionSpec, invoke
from devhost.eventgrid import abuse_protection, handle_admin_invoke, handle_webhook
from devhost.replies import Reply, json_reply, problem
from devhost.routing import Router
from devhost.sandbox_reset import reset_with_stores

__all__ = ["HostState", "Incoming", "dispatch", "make_server"]

log = logging.getLogger("devhost")

MAX_BODY_BYTES = 100 * 1024 * 1024  # the Functions host's own request size limit
_EVENTGRID_PATH = "/runtime/webhooks/eventgrid"
_ADMIN_FUNCTIONS = "/admin/functions/"
_SANDBOX = "/_sandbox"
_NO_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True, slots=True)
class HostState:
    """Everything a request needs: the indexed functions, their router and the settings."""

    functions: dict[str, FunctionSpec]  # keys lower-case, as function names are case-insensitive
    router: Router[FunctionSpec]
    route_prefix: str  # "api" by default, "" for none
    sandbox_mounted: bool


@dataclass(frozen=True, slots=True)
class Incoming:
    """One request as read off the wire; header names are lower-case."""

    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.target).path or "/"

    @property
    def key(self) -> str:
        """The path lower-cased without a trailing slash, for case-insensitive host routes."""
        return self.path.lower().rstrip("/")

    @property
    def query(self) -> dict[str, str]:
        """Query parameters; repeated keys joined with commas, as the host's StringValues does."""
        pairs = parse_qs(urlsplit(self.target).query, keep_blank_values=True)
        return {key: ",".join(values) for key, values in pairs.items()}


def dispatch(state: HostState, request: Incoming) -> Reply:
    """Answer one request: host endpoints first, then the sandbox mount, then the app's routes."""
    key = request.key
    if key == _EVENTGRID_PATH:
        return _eventgrid(state, request)
    if key == "/admin/host/status":
        return json_reply(200, {"state": "Running", "version": "devhost"})
    if key.startswith(_ADMIN_FUNCTIONS):
        return _admin(state, request)
    if key == _SANDBOX or key.startswith(_SANDBOX + "/"):
        return _sandbox(state, request)
    return _app_route(state, request)


def make_server(state: HostState, host: str, port: int) -> ThreadingHTTPServer:
    """A threading HTTP server bound to host:port, serving `state`."""

    class Handler(_Handler):
        host_state = state

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def _eventgrid(state: HostState, request: Incoming) -> Reply:
    if request.method == "OPTIONS":
        return abuse_protection(request.headers)
    if request.method != "POST":
        return _not_allowed("POST, OPTIONS")
    return handle_webhook(state.functions, request.query, request.headers, request.body)


def _admin(state: HostState, request: Incoming) -> Reply:
    if request.method != "POST":
        return _not_allowed("POST")
    spec = state.functions.get(request.key.removeprefix(_ADMIN_FUNCTIONS))
    if spec is None:
        return problem(404, "Not Found", "no function by that name")
    return handle_admin_invoke(spec, request.body)


def _app_route(state: HostState, request: Incoming) -> Reply:
    prefix = f"/{state.route_prefix.strip('/')}".lower() if state.route_prefix.strip("/") else ""
    key = request.key
    if prefix and key != prefix and not key.startswith(prefix + "/"):
        return problem(404, "Not Found", "no function matches this path")
    found = state.router.match(request.method, request.path[len(prefix) :])
    if found is None:
        return problem(404, "Not Found", "no function matches this path")
    if found.target is None:
        return _not_allowed(", ".join(found.allowed))
    host = request.headers.get("host", "localhost")
    http_request = func.HttpRequest(
        request.method,
        f"http://{host}{request.target}",
        headers=request.headers,
        params=request.query,
        route_params=found.route_params,
        body=request.body,
    )
    try:
        result = invoke(found.target, http_request)
    except Exception:
        # The traceback stays in the local log; the caller gets no internals.
        log.exception("Executed 'Functions.%s' (Failed)", found.target.name)
        return problem(500, "Internal Server Error", "the function raised an exception")
    return _http_reply(found.target, result)


def _not_allowed(allowed: str) -> Reply:
    return problem(405, "Method Not Allowed", f"allowed: {allowed}", headers=[("Allow", allowed)])


def _http_reply(spec: FunctionSpec, result: object) -> Reply:
    if result is None:
        return Reply(204)
    if isinstance(result, str | bytes):
        body = result.encode() if isinstance(result, str) else result
        return Reply(200, [("Content-Type", "text/plain; charset=utf-8")], body)
    if not isinstance(result, func.HttpResponse):
        log.error("Function %s returned %s, not an HttpResponse", spec.name, type(result).__name__)
        return problem(500, "Internal Server Error", "the function returned an unsupported value")
    headers = [(str(name), str(value)) for name, value in result.headers.items()]
    if not any(name.lower() == "content-type" for name, _ in headers):
        # The same rule as azure.functions.http.HttpResponseConverter.encode.
        mimetype = result.mimetype
        text = mimetype.startswith("text/")
        headers.append(
            ("Content-Type", f"{mimetype}; charset={result.charset}" if text else mimetype)
        )
    return Reply(result.status_code, headers, result.get_body() or b"")


def _sandbox(state: HostState, request: Incoming) -> Reply:
    if not state.sandbox_mounted:
        return problem(404, "Not Found", "sandbox not available: CACHEKEEPER_MODE is not sandbox")
    try:
        # Imported lazily and by name: the sandbox is optional and may not exist yet.
        handle_http = importlib.import_module("sandbox.embedded").handle_http
    except (ImportError, AttributeError) as exc:
        log.warning("sandbox not available: %s", exc)
        return problem(404, "Not Found", "sandbox not available")
    # The sandbox's own router expects the full path, /_sandbox included.
    path = request.path
    if (
        request.key == _SANDBOX + "/reset"
        and request.method == "POST"
        and "stores" in request.query
    ):
        return reset_with_stores(handle_http, request.query["stores"], request.headers)
    try:
        status, headers, body = handle_http(
            request.method, path, request.query, request.headers, request.body
        )
    except Exception:
        log.exception("the sandbox failed on %s %s", request.method, path)
        return problem(500, "Internal Server Error", "the sandbox raised an exception")
    return Reply(int(status), [(str(k), str(v)) for k, v in dict(headers).items()], bytes(body))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "devhost"
    host_state: HostState

    def _handle(self) -> None:
        started = time.perf_counter()
        headers = _joined_headers(self.headers.items())
        body = self._read_body(headers)
        if isinstance(body, Reply):
            reply = body
            self.close_connection = True  # the unread body would corrupt the next request
        else:
            try:
                reply = dispatch(self.host_state, Incoming(self.command, self.path, headers, body))
            except Exception:
                log.exception("devhost failed on %s %s", self.command, urlsplit(self.path).path)
                reply = problem(500, "Internal Server Error", "the host failed; see its log")
        self._send(reply)
        elapsed = (time.perf_counter() - started) * 1000
        path = urlsplit(self.path).path
        log.info("%s %s -> %d (%.0f ms)", self.command, path, reply.status, elapsed)

    # http.server dispatches on these exact names.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) is routed too, so that a method no route accepts
        # gets the Functions host's 405 rather than http.server's own 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _read_body(self, headers: dict[str, str]) -> bytes | Reply:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(headers.get("content-length", "0") or "0")
        except ValueError:
            return problem(400, "Bad Request", "Content-Length is not a number")
        if length < 0:
            return problem(400, "Bad Request", "Content-Length is negative")
        if length > MAX_BODY_BYTES:
            return problem(413, "Payload Too Large", f"the limit is {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes | Reply:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                return problem(400, "Bad Request", "malformed chunked body")
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers are ignored
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                return problem(413, "Payload Too Large", f"the limit is {MAX_BODY_BYTES} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            if name.lower() not in _NO_RESPONSE_HEADERS:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log; `_handle` logs one line per request."""


def _joined_headers(items: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
