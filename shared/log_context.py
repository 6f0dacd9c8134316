"""What every log record of a function invocation carries, and the SDK loggers' default level.

- `invocation_scope(invocation_id=..., event_id=..., request_id=...)` marks the records written
  inside it, by any logger, with `invocation_id` and, when given, `event_id` (Event Grid) or
  `request_id` (HTTP) attributes (exported as custom dimensions). The scope is a context variable:
  `shared.services.context.fan_out` copies it into helper threads.
- `invocation_id_of(context)` reads the id from the worker's `azure.functions.Context`;
  `function_invocation(context, ...)` is the scope of one function invocation: its ids on every
  record and the host's trace continued (`shared.host_trace`). The trigger wrappers use it.
- `configure_logging()` installs that marking once and sets the Azure SDK loggers to WARNING,
  so a run at default settings writes no azure-core request/response lines (in Azure, each is
  ingestion cost). `CACHEKEEPER_AZURE_LOG_LEVEL` (a logging level name) raises them to debug.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from shared.errors import ConfigurationError
from shared.host_trace import host_trace

__all__ = [
    "AZURE_LOGGERS",
    "AZURE_LOG_LEVEL_SETTING",
    "configure_logging",
    "function_invocation",
    "invocation_id_of",
    "invocation_scope",
    "scope_fields",
]

AZURE_LOG_LEVEL_SETTING = "CACHEKEEPER_AZURE_LOG_LEVEL"
AZURE_LOGGERS = ("azure", "azure.core.pipeline.policies.http_logging_policy", "azure.identity")
_MAX_FIELD = 128  # ids only; anything longer is cut, never logged whole
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_scope: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("cachekeeper_log_scope", default=())
_installed = threading.Lock()
_factory_installed = False


def scope_fields() -> dict[str, str]:
    """The fields the current invocation's log records carry (empty outside an invocation)."""
    return dict(_scope.get())


def invocation_id_of(context: object) -> str | None:
    """The invocation id the worker put on its `azure.functions.Context` (None without one)."""
    found = getattr(context, "invocation_id", None)
    return str(found) if found else None


@contextmanager
def invocation_scope(
    *, invocation_id: str | None, event_id: str | None = None, request_id: str | None = None
) -> Iterator[None]:
    """Within this block, every log record carries the invocation id and the event or request
    id given (fields that are None are left off)."""
    fields = {"event_id": event_id, "invocation_id": invocation_id, "request_id": request_id}
    token = _scope.set(tuple((k, str(v)[:_MAX_FIELD]) for k, v in fields.items() if v))
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def function_invocation(
    context: object, *, event_id: str | None = None, request_id: str | None = None
) -> Iterator[None]:
    """One function invocation: its ids on every record, the host's trace current."""
    ids = invocation_scope(
        invocation_id=invocation_id_of(context), event_id=event_id, request_id=request_id
    )
    with host_trace(context), ids:
        yield


def _install_record_factory() -> None:
    global _factory_installed
    with _installed:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def record_with_scope(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            for key, value in _scope.get():
                setattr(record, key, value)
            return record

        logging.setLogRecordFactory(record_with_scope)
        _factory_installed = True


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Mark invocation records with their scope; Azure SDK loggers at WARNING unless raised."""
    env = os.environ if environ is None else environ
    level = env.get(AZURE_LOG_LEVEL_SETTING, "").strip().upper() or "WARNING"
    if level not in _LEVELS:
        raise ConfigurationError(
            AZURE_LOG_LEVEL_SETTING, f"{level!r} is not a logging level", ", ".join(_LEVELS)
        )
    _install_record_factory()
    for name in AZURE_LOGGERS:
        logging.getLogger(name).setLevel(level)
