"""A small Functions host: it drives the real Python worker (`azure_functions_runtime`, what Azure
loads for Python 3.13+) through the host <-> worker protobuf messages, as the Functions host does.

    WorkerInitRequest -> FunctionsMetadataRequest -> FunctionLoadRequest (each function)
    -> InvocationRequest (per HTTP request, Event Grid event or timer tick)

Every message travels as a serialized `StreamingMessage` and is parsed again on the other side,
as over the host's gRPC stream, so what the worker reads is exactly what the wire carries. The
binding data is what the host sends a Python worker that announced RawHttpBodyBytes,
RpcHttpBodyOnly and RpcHttpTriggerMetadataRemoved (the runtime announces all three): HTTP as
`TypedData.http` with the body as bytes and the route values in `params`; an Event Grid event
(Event Grid schema or CloudEvents 1.0) as `TypedData.json`, one invocation per event; a timer
tick as the TimerInfo JSON (`Schedule`, `ScheduleStatus`, `IsPastDue`); a queue message as
`host_queues.py` sends it. Every invocation carries the `sys` trigger metadata and a trace context.

What the .NET host does around the worker is ours here: routing (literal segments beat `{param}`
segments), function keys (`x-functions-key` header or `code` query for non-anonymous routes),
and turning the returned `RpcHttp` into a response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure_functions_runtime as runtime

from tests.runtime import _rpc as protos
from tests.runtime.host_logs import RpcLogStream

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY = "runtime-tier-function-key"
HOST_CAPABILITIES = {"RpcHttpBodyOnly": "true", "RawHttpBodyBytes": "true"}


@dataclass(frozen=True)
class Reply:
    """An HTTP response as the host would write it."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Function:
    """One function as the worker reported it in FunctionMetadataResponse."""

    metadata: Any  # protos.RpcFunctionMetadata
    bindings: list[dict[str, Any]] = field(default_factory=list)  # raw_bindings, parsed

    @property
    def name(self) -> str:
        return str(self.metadata.name)

    @property
    def trigger(self) -> dict[str, Any]:
        (trigger,) = [b for b in self.bindings if b["type"].endswith("Trigger")]
        return trigger


class _Request:
    """What the proxy worker hands `handle_event`: the message and the host's properties."""

    def __init__(self, message: Any, host: str) -> None:
        self.request = message
        self.properties = {"host": host, "protos": protos}


class WorkerFailureError(AssertionError):
    """The worker answered a request with StatusResult.Failure."""


class FunctionsHost:
    """The host side of one worker: start it, then invoke its functions."""

    def __init__(self, app_directory: Path = REPO_ROOT) -> None:
        self.app_directory = app_directory
        self.functions: dict[str, Function] = {}
        self.invocations: list[tuple[str, str]] = []  # (function name, invocation id)
        self.trace_parents: dict[str, str] = {}  # invocation id -> the traceparent sent
        self.logs = RpcLogStream()  # every record the worker sends as RpcLog
        self._loop = asyncio.new_event_loop()
        self._sequence = 0

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if str(self.app_directory) not in sys.path:
            sys.path.insert(0, str(self.app_directory))  # the worker runs in the app's folder
        asyncio.set_event_loop(self._loop)
        logging.getLogger().addHandler(self.logs)  # as the proxy worker does, at INFO
        logging.getLogger().setLevel(logging.INFO)
        runtime.start_threadpool_executor()
        init = self._call(
            runtime.worker_init_request,
            "worker_init_request",
            protos.WorkerInitRequest(
                host_version="4.1040.0",
                capabilities=HOST_CAPABILITIES,
                function_app_directory=str(self.app_directory),
                worker_directory=str(Path(runtime.__file__).parent),
            ),
            "worker_init_response",
        )
        self.capabilities = dict(init.capabilities)
        metadata = self._call(
            runtime.functions_metadata_request,
            "functions_metadata_request",
            protos.FunctionsMetadataRequest(function_app_directory=str(self.app_directory)),
            "function_metadata_response",
        )
        for entry in metadata.function_metadata_results:
            bindings = [json.loads(raw) for raw in entry.raw_bindings]
            self.functions[entry.name] = Function(entry, bindings)
        for function in self.functions.values():
            self._call(
                runtime.function_load_request,
                "function_load_request",
                protos.FunctionLoadRequest(
                    function_id=function.metadata.function_id, metadata=function.metadata
                ),
                "function_load_response",
            )

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.logs)
        runtime.stop_threadpool_executor()
        self._loop.close()

    # ---- invocations -----------------------------------------------------------------------

    def invoke(self, name: str, data: Any, metadata: Mapping[str, Any] | None = None) -> Any:
        """One InvocationRequest with `data` (a TypedData) on the trigger (and the trigger's own
        metadata, TypedData by name); the response."""
        function = self.functions[name]
        invocation_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat()
        sys_metadata = {"MethodName": name, "UtcNow": now, "RandGuid": str(uuid.uuid4())}
        trace_parent = f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01"
        request = protos.InvocationRequest(
            invocation_id=invocation_id,
            function_id=function.metadata.function_id,
            input_data=[protos.ParameterBinding(name=function.trigger["name"], data=data)],
            trigger_metadata={
                "sys": protos.TypedData(json=json.dumps(sys_metadata)),
                **(metadata or {}),
            },
            trace_context=protos.RpcTraceContext(trace_parent=trace_parent),
        )
        self.invocations.append((name, invocation_id))
        self.trace_parents[invocation_id] = trace_parent
        return self._call(
            runtime.invocation_request, "invocation_request", request, "invocation_response"
        )

    def http(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = FUNCTION_KEY,
    ) -> Reply:
        """An HTTP request to `/api/...` routed, authorised and answered as the host does."""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            headers = {"x-functions-key": key, **(headers or {})}
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        route = parts.path.removeprefix("/api/")
        found = self.route(method, route)
        if found is None:
            return Reply(404, {}, b"")
        function, params = found
        if function.trigger.get("authLevel", "FUNCTION").upper() != "ANONYMOUS":
            given = query.get("code") or {k.lower(): v for k, v in (headers or {}).items()}.get(
                "x-functions-key"
            )
            if given != FUNCTION_KEY:
                return Reply(401, {}, b"")
        rpc = protos.RpcHttp(
            method=method.upper(),
            url=f"http://localhost:7071{path}",
            headers={k.lower(): v for k, v in (headers or {}).items()},
            params=params,
            query=query,
        )
        if body:
            rpc.body.CopyFrom(protos.TypedData(bytes=body))
        response = self.invoke(function.name, protos.TypedData(http=rpc))
        _require_success(function.name, response)
        returned = response.return_value.http
        return Reply(
            int(returned.status_code or "200"),
            {k.lower(): v for k, v in returned.headers.items()},
            _body_bytes(returned.body),
        )

    def event_grid(self, name: str, event: Mapping[str, Any]) -> Any:
        """Deliver one event (Event Grid schema or CloudEvents 1.0) to trigger `name`."""
        return self.invoke(name, protos.TypedData(json=json.dumps(event)))

    def timer(self, name: str, *, past_due: bool = False) -> Any:
        """One tick of timer `name`, with the TimerInfo JSON the timer extension sends."""
        now = datetime.now(UTC)
        info = {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": (now - timedelta(hours=1)).isoformat(),
                "Next": (now + timedelta(hours=1)).isoformat(),
                "LastUpdated": now.isoformat(),
            },
            "IsPastDue": past_due,
        }
        return self.invoke(name, protos.TypedData(json=json.dumps(info)))

    # ---- routing ---------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[Function, dict[str, str]] | None:
        """The HTTP function for `method path` and its route values: literal segments beat
        parameter segments, left to right (most specific template first)."""
        candidates = []
        for function in self.functions.values():
            trigger = function.trigger
            if trigger["type"] != "httpTrigger":
                continue
            methods = {m.upper() for m in trigger.get("methods") or ()}
            if methods and method.upper() not in methods:
                continue
            params = _match(trigger.get("route") or function.name, path)
            if params is not None:
                specificity = [not s.startswith("{") for s in trigger["route"].split("/")]
                candidates.append((specificity, function, params))
        if not candidates:
            return None
        candidates.sort(key=lambda c: c[0], reverse=True)
        return candidates[0][1], candidates[0][2]

    # ---- the wire --------------------------------------------------------------------------

    def _call(self, handler: Any, field_name: str, message: Any, reply_field: str) -> Any:
        self._sequence += 1
        outgoing = protos.StreamingMessage(request_id=f"host-{self._sequence}")
        getattr(outgoing, field_name).CopyFrom(message)
        received = protos.StreamingMessage.FromString(outgoing.SerializeToString())
        answer = self._loop.run_until_complete(handler(_Request(received, "127.0.0.1")))
        wrapped = protos.StreamingMessage(request_id=received.request_id)
        getattr(wrapped, reply_field).CopyFrom(answer)
        reply = getattr(
            protos.StreamingMessage.FromString(wrapped.SerializeToString()), reply_field
        )
        if field_name != "invocation_request":
            _require_success(field_name, reply)
        return reply


def _match(template: str, path: str) -> dict[str, str] | None:
    wanted, given = template.strip("/").split("/"), path.strip("/").split("/")
    if len(wanted) != len(given):
        return None
    params: dict[str, str] = {}
    for pattern, segment in zip(wanted, given, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            if not segment:
                return None
            params[pattern[1:-1].split(":")[0].rstrip("?")] = segment
        elif pattern.lower() != segment.lower():
            return None
    return params


def _body_bytes(body: Any) -> bytes:
    kind = body.WhichOneof("data")
    if kind is None:
        return b""
    value = getattr(body, kind)
    return value if isinstance(value, bytes) else str(value).encode()


def _require_success(what: str, reply: Any) -> None:
    if reply.result.status != protos.StatusResult.Success:
        raise WorkerFailureError(f"{what}: {reply.result.exception.message}")


def succeeded(response: Any) -> bool:
    """Whether an InvocationResponse reports success (the host acknowledges the event)."""
    return bool(response.result.status == protos.StatusResult.Success)
