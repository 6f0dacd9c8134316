"""Function code continues the host's trace.

With `PYTHON_ENABLE_OPENTELEMETRY=true` the Functions host sends each invocation a W3C trace
context (`context.trace_context.trace_parent`), and the worker attaches it in the thread that
decodes the invocation. A synchronous function runs in the worker's thread pool, where that
attachment is not visible (azure-functions-runtime 1.3 does not re-attach it there), so its spans
and log records would carry an all-zero trace id. `host_trace(context)` attaches the host's trace
context for the block when none is current; helper threads get it through
`shared.services.context.fan_out`, which copies the caller's context. Without the setting, or
without a traceparent, it does nothing and imports nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

__all__ = ["OPENTELEMETRY_SETTING", "host_trace"]

OPENTELEMETRY_SETTING = "PYTHON_ENABLE_OPENTELEMETRY"


def _carrier(context: object, env: Mapping[str, str]) -> dict[str, str]:
    if env.get(OPENTELEMETRY_SETTING, "").strip().lower() != "true":
        return {}
    trace_context = getattr(context, "trace_context", None)
    parent = str(getattr(trace_context, "trace_parent", "") or "")
    state = str(getattr(trace_context, "trace_state", "") or "")
    if not parent:
        return {}
    return {"traceparent": parent, **({"tracestate": state} if state else {})}


@contextmanager
def host_trace(context: object, environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """Within this block, the current trace is the host's (when it sent one and none is set)."""
    carrier = _carrier(context, os.environ if environ is None else environ)
    token = None
    if carrier:
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        if not trace.get_current_span().get_span_context().is_valid:
            token = otel_context.attach(TraceContextTextMapPropagator().extract(carrier))
    try:
        yield
    finally:
        if token is not None:
            otel_context.detach(token)
