"""Command line of the local host: load settings, maybe start Azurite, index the app, serve.

Exit status 2 means the configuration is wrong (a bad setting, schedule, route or settings file);
the message on stderr says which and how to fix it. Status 1 means the host could not start
(Azurite failed, the port is taken).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from devhost.app_index import AppLoadError, FunctionSpec, index_app, load_app
from devhost.azurite import AzuriteError, start_azurite
from devhost.queues import QueueListeners
from devhost.routing import Router, RouteTemplateError, refuse_overlaps
from devhost.server import HostState, make_server
from devhost.settings_file import (
    SettingsFileError,
    apply_values,
    default_settings_path,
    load_settings_file,
)
from devhost.timers import ScheduleError, Timers, plan_timers
from shared.errors import CachekeeperError, ConfigurationError

__all__ = ["main"]

_HOST_STORAGE = "AzureWebJobsStorage"  # the app setting of the host's storage account

log = logging.getLogger("devhost")
CONFIG_ERROR = 2
START_ERROR = 1
_ALL_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"


class _StartupError(Exception):
    def __init__(self, message: str, status: int = CONFIG_ERROR) -> None:
        super().__init__(message)
        self.status = status


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl+C so everything started is stopped."""


def main(argv: list[str] | None = None) -> int:
    """Run the host until interrupted; return the process exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", stream=sys.stderr)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with ExitStack() as cleanup:
            _run(args, Path.cwd(), cleanup)
    except _StartupError as exc:
        print(f"devhost: {exc}", file=sys.stderr, flush=True)
        return exc.status
    except (KeyboardInterrupt, _Terminated):
        log.info("Host stopped")
    return 0


def _run(args: argparse.Namespace, workdir: Path, cleanup: ExitStack) -> None:
    port = _load_settings(args, workdir)
    sandbox = os.environ.get("CACHEKEEPER_MODE", "").strip().lower() == "sandbox"
    if sandbox and not os.environ.get("STORAGE_CONNECTION"):
        try:
            azurite = cleanup.enter_context(start_azurite())
        except AzuriteError as exc:
            raise _StartupError(str(exc), START_ERROR) from None
        os.environ["STORAGE_CONNECTION"] = azurite.connection_string
        log.info("Azurite table service started on port %d", azurite.port)
    specs = _index(args.app, workdir)
    uses_queues = any(s.kind == "queue" or s.queue_outputs for s in specs)
    if uses_queues and _development_storage(os.environ.get(_HOST_STORAGE)):
        try:
            queues = cleanup.enter_context(start_azurite(service="queue"))
        except AzuriteError as exc:
            raise _StartupError(str(exc), START_ERROR) from None
        os.environ[_HOST_STORAGE] = queues.connection_string
        log.info("Azurite queue service started on port %d", queues.port)
    if sandbox:
        _wire_sandbox()
    try:
        http = [s for s in specs if s.kind == "http"]
        refuse_overlaps((s.route or "", s.methods) for s in http)
        router = Router((s.route or "", s.methods, s) for s in http)
        plans = [] if args.no_timers else plan_timers(specs, os.environ)
    except (RouteTemplateError, ScheduleError) as exc:
        raise _StartupError(str(exc)) from None
    prefix = _route_prefix(workdir / "host.json")
    state = HostState({s.name.lower(): s for s in specs}, router, prefix, sandbox_mounted=sandbox)
    try:
        server = make_server(state, args.host, port)
    except OSError as exc:
        raise _StartupError(
            f"cannot listen on {args.host}:{port}: {exc.strerror}", START_ERROR
        ) from None
    cleanup.callback(server.server_close)
    base = f"http://{args.host}:{server.server_address[1]}"
    print(_banner(specs, base, prefix, timers=not args.no_timers), flush=True)
    timers = Timers(plans)
    cleanup.callback(timers.stop)
    timers.start()
    listeners = QueueListeners(specs)
    cleanup.callback(listeners.stop)
    listeners.start()
    server.serve_forever(poll_interval=0.2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: $PORT, Host.LocalHttpPort, 7071)"
    )
    parser.add_argument("--app", default="function_app:app", help="module:attr of the FunctionApp")
    parser.add_argument(
        "--settings",
        type=Path,
        default=None,
        help="settings file (default: local.settings.json, else local.settings.example.json)",
    )
    parser.add_argument("--no-timers", action="store_true", help="do not fire timer triggers")
    return parser


def _load_settings(args: argparse.Namespace, workdir: Path) -> int:
    """Copy the settings file's Values into the environment; return the port to use."""
    path = args.settings if args.settings is not None else default_settings_path(workdir)
    local_port = None
    if path is not None:
        try:
            loaded = load_settings_file(path)
        except SettingsFileError as exc:
            raise _StartupError(str(exc)) from None
        applied = apply_values(loaded.values, os.environ)
        # Counts only: values can be connection strings with keys.
        log.info("Loaded %d of %d settings from %s", len(applied), len(loaded.values), path)
        local_port = loaded.local_http_port
    if args.port is not None:
        return int(args.port)
    env_port = os.environ.get("PORT", "").strip()
    if env_port:
        if not env_port.isdigit():
            raise _StartupError(f"PORT={env_port!r} is not a port number")
        return int(env_port)
    return local_port or 7071


def _index(reference: str, workdir: Path) -> list[FunctionSpec]:
    try:
        return index_app(load_app(reference, search_path=workdir))
    except ConfigurationError as exc:
        # A bad setting stops start-up, with the message naming the setting and the fix.
        raise _StartupError(exc.message) from None
    except (AppLoadError, ValueError) as exc:
        # ValueError: the library's own indexing checks (duplicate names, two triggers).
        raise _StartupError(str(exc)) from None


def _wire_sandbox() -> None:
    """Sandbox mode: the app's Context reaches the sandbox served at /_sandbox; it is built now,
    before any function runs (the app itself never wires the sandbox)."""
    from sandbox.wiring import wire_sandbox_mode  # the emulation loads only in sandbox mode

    try:
        wire_sandbox_mode()
    except ConfigurationError as exc:
        raise _StartupError(exc.message) from None
    except CachekeeperError as exc:  # the stores could not be read (Azurite, Table Storage)
        raise _StartupError(f"sandbox mode: {exc.message}", START_ERROR) from None


def _route_prefix(host_json: Path) -> str:
    try:
        document = json.loads(host_json.read_text(encoding="utf-8-sig"))
    except (OSError, json.JSONDecodeError):
        return "api"
    http = document.get("extensions", {}).get("http", {}) if isinstance(document, dict) else {}
    prefix = http.get("routePrefix") if isinstance(http, dict) else None
    return prefix.strip("/") if isinstance(prefix, str) else "api"


def _banner(specs: list[FunctionSpec], base: str, prefix: str, *, timers: bool) -> str:
    lines = ["", "Functions:", ""]
    for spec in specs:
        if spec.kind == "http":
            methods = ",".join(spec.methods) if spec.methods else _ALL_METHODS
            path = "/".join(part for part in (prefix, (spec.route or "").strip("/")) if part)
            lines.append(f"\t{spec.name}: [{methods}] {base}/{path}")
        elif spec.kind == "eventGrid":
            url = f"{base}/runtime/webhooks/EventGrid?functionName={spec.name}"
            lines.append(f"\t{spec.name}: eventGridTrigger  POST {url}")
        elif spec.kind == "timer":
            note = "" if timers else " (timers disabled)"
            lines.append(f"\t{spec.name}: timerTrigger '{spec.schedule}'{note}")
        else:
            lines.append(
                f"\t{spec.name}: {spec.trigger_type}  POST {base}/admin/functions/{spec.name}"
            )
    lines += [
        "",
        "Keys are not enforced by this development host.",
        "Host started. Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _development_storage(value: str | None) -> bool:
    """Whether AzureWebJobsStorage is unset or `UseDevelopmentStorage=true` (Azurite's defaults,
    which the local host replaces with the queue service it starts)."""
    return (
        value is None
        or not value.strip()
        or value.replace(" ", "").lower() == "usedevelopmentstorage=true"
    )
