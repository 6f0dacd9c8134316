"""Load the function app and index it with the library's own `FunctionApp.get_functions()`.

Each function becomes a `FunctionSpec` read from its trigger binding, and `invoke` calls the user
function the way the worker does: the trigger value is passed by the binding's argument name, a
parameter named `context` receives the invocation context (a fresh invocation id per call), and
`async def` functions run to completion on an event loop.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import azure.functions as func
from azure.functions.decorators.core import BindingDirection

from devhost.queue_outputs import OutValue, QueueOutput, write_outputs

__all__ = [
    "AppLoadError",
    "FunctionSpec",
    "OutValue",
    "QueueOutput",
    "index_app",
    "invoke",
    "load_app",
    "run_logged",
]

log = logging.getLogger("devhost")

Kind = Literal["http", "eventGrid", "timer", "queue", "other"]
_KINDS: dict[str, Kind] = {
    "httpTrigger": "http",
    "eventGridTrigger": "eventGrid",
    "timerTrigger": "timer",
    "queueTrigger": "queue",
}


class AppLoadError(RuntimeError):
    """The app reference does not name a FunctionApp."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """What the host needs to know about one function, read from its trigger binding."""

    name: str
    kind: Kind
    trigger_type: str
    arg_name: str
    user_function: Any
    route: str | None = None
    methods: tuple[str, ...] | None = None  # None: every method
    auth_level: str | None = None
    schedule: str | None = None
    run_on_startup: bool = False
    queue_name: str | None = None  # queue triggers
    connection: str | None = None
    queue_outputs: tuple[QueueOutput, ...] = ()


def load_app(reference: str, *, search_path: Path) -> func.FunctionApp:
    """Import `module:attr` (attr optional: the module's one FunctionApp) and return the app."""
    module_name, _, attr = reference.partition(":")
    if str(search_path) not in sys.path:
        sys.path.insert(0, str(search_path))
    # Exceptions raised while importing (a ConfigurationError, say) are the caller's to report.
    module = importlib.import_module(module_name)
    if attr:
        app = getattr(module, attr, None)
        if not isinstance(app, func.FunctionApp):
            raise AppLoadError(f"{reference} is not a FunctionApp")
        return app
    apps = [value for value in vars(module).values() if isinstance(value, func.FunctionApp)]
    if len(apps) != 1:
        raise AppLoadError(f"{module_name} defines {len(apps)} FunctionApp instances; name one")
    return apps[0]


def index_app(app: func.FunctionApp) -> list[FunctionSpec]:
    """One FunctionSpec per function, in the app's registration order."""
    return [_spec(function) for function in app.get_functions()]


@dataclass(frozen=True, slots=True)
class InvocationContext:
    """What the worker passes as `context`: the invocation's ids (func.Context's attributes)."""

    function_name: str
    invocation_id: str
    function_directory: str = ""
    trace_context: Any = None
    retry_context: Any = None
    thread_local_storage: Any = None


def invoke(spec: FunctionSpec, value: Any) -> Any:
    """Call the user function with the trigger value; run coroutines to completion. Queue
    output bindings are written once the function has returned (`devhost.queues`)."""
    arguments: dict[str, Any] = {spec.arg_name: value}
    outputs = {output.arg_name: OutValue() for output in spec.queue_outputs}
    arguments.update(outputs)
    if "context" in inspect.signature(spec.user_function).parameters:
        arguments["context"] = InvocationContext(
            function_name=spec.name,
            invocation_id=str(uuid.uuid4()),
            thread_local_storage=threading.local(),
        )
    result = spec.user_function(**arguments)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    if spec.queue_outputs:
        write_outputs(spec.queue_outputs, {name: out.value for name, out in outputs.items()})
    return result


def run_logged(spec: FunctionSpec, value: Any, reason: str) -> bool:
    """Invoke and log start, outcome and duration like the host; True when it succeeded."""
    log.info("Executing 'Functions.%s' (Reason='%s')", spec.name, reason)
    started = time.perf_counter()
    try:
        invoke(spec, value)
    except Exception:
        # The traceback goes to the local log only, never into a response.
        log.exception("Executed 'Functions.%s' (Failed)", spec.name)
        return False
    elapsed = (time.perf_counter() - started) * 1000
    log.info("Executed 'Functions.%s' (Succeeded, Duration=%.0fms)", spec.name, elapsed)
    return True


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _spec(function: Any) -> FunctionSpec:
    trigger = function.get_trigger()
    trigger_type = str(trigger.type)
    kind = _KINDS.get(trigger_type, "other")
    common: dict[str, Any] = {
        "name": function.get_function_name(),
        "kind": kind,
        "trigger_type": trigger_type,
        "arg_name": trigger.name,
        "user_function": function.get_user_function(),
    }
    if kind == "http":
        methods = getattr(trigger, "methods", None)
        return FunctionSpec(
            **common,
            # The library's default route is the function name, as in the host.
            route=trigger.route if trigger.route is not None else common["name"],
            methods=None if not methods else tuple(_text(m).upper() for m in methods),
            auth_level=_text(trigger.auth_level) if trigger.auth_level is not None else None,
        )
    common["queue_outputs"] = tuple(
        QueueOutput(b.name, str(b.queue_name), str(b.connection or "AzureWebJobsStorage"))
        for b in function.get_bindings()
        if str(b.type) == "queue"
        and b.direction in (BindingDirection.OUT, BindingDirection.OUT.value)
    )
    if kind == "timer":
        return FunctionSpec(
            **common,
            schedule=str(trigger.schedule),
            run_on_startup=bool(trigger.run_on_startup),
        )
    if kind == "queue":
        return FunctionSpec(
            **common,
            queue_name=str(trigger.queue_name),
            connection=str(trigger.connection or "AzureWebJobsStorage"),
        )
    return FunctionSpec(**common)


def _text(value: Any) -> str:
    # Decorator fields hold either plain strings or the library's str-valued enums.
    return str(getattr(value, "value", value))
