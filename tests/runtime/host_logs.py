"""What the Python worker's host side does with every `logging` record: one RpcLog message to
the host. The proxy worker Azure runs for Python 3.13+ installs a handler on the root logger that
turns each record into an `RpcLog` on the gRPC stream, with the invocation id the runtime keeps
for the running invocation (a context variable, or the invocation context's thread-local).

`RpcLogStream` does that here and also notes, per message, the ids our log scope put on the
record and the OpenTelemetry trace id current when it was written (all zeros when none was
attached), so the tier can check what the host receives.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from azure_functions_runtime.bindings import context as runtime_context
from azure_functions_runtime.utils import executor

from tests.runtime import _rpc as protos

SCOPE_FIELDS = ("invocation_id", "event_id", "request_id")
NO_TRACE = "0" * 32


@dataclass(frozen=True)
class HostLog:
    """One RpcLog as the host receives it, with what the record carried."""

    rpc: Any  # protos.RpcLog
    scope: dict[str, str]
    trace_id: str  # 32 hex digits


def _worker_invocation_id() -> str:
    found = executor.invocation_id_cv.get() or getattr(
        runtime_context._invocation_id_local, "invocation_id", None
    )
    return str(found or "")


def _current_trace_id() -> str:
    try:
        from opentelemetry import trace
    except ImportError:
        return NO_TRACE
    return f"{trace.get_current_span().get_span_context().trace_id:032x}"


def _level(record: logging.LogRecord) -> Any:
    for floor, level in ((logging.CRITICAL, protos.RpcLog.Critical),
                         (logging.ERROR, protos.RpcLog.Error),
                         (logging.WARNING, protos.RpcLog.Warning),
                         (logging.INFO, protos.RpcLog.Information)):  # fmt: skip
        if record.levelno >= floor:
            return level
    return protos.RpcLog.Debug


class RpcLogStream(logging.Handler):
    """A root handler: every record becomes one RpcLog, serialized and parsed as on the wire."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.received: list[HostLog] = []

    def emit(self, record: logging.LogRecord) -> None:
        system = record.name.startswith("azure.functions") or record.name.startswith(
            "azure_functions"
        )
        message = protos.RpcLog(
            invocation_id=_worker_invocation_id(),
            category=record.name,
            level=_level(record),
            message=record.getMessage(),
            log_category=protos.RpcLog.System if system else protos.RpcLog.User,
        )
        wrapped = protos.StreamingMessage(request_id="worker", rpc_log=message)
        arrived = protos.StreamingMessage.FromString(wrapped.SerializeToString()).rpc_log
        scope = {k: str(getattr(record, k)) for k in SCOPE_FIELDS if hasattr(record, k)}
        self.received.append(HostLog(arrived, scope, _current_trace_id()))

    def of_invocation(self, invocation_id: str) -> list[HostLog]:
        """The messages the worker attributed to this invocation."""
        return [log for log in self.received if log.rpc.invocation_id == invocation_id]
