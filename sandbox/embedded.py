"""The process-wide sandbox used by the local dev host (`/_sandbox/` is mounted here)."""

from __future__ import annotations

import json
import os
import threading

from sandbox.control import HttpResult
from sandbox.core import Sandbox
from sandbox.env import TIMING_ENV, timing_options
from sandbox.errors import HostNotFoundError, SimulatedTimeoutError
from sandbox.httpapi import serve_http

_lock = threading.Lock()
_instance: Sandbox | None = None


def get_sandbox() -> Sandbox:
    """The singleton, created on first use from `$SANDBOX_SCENARIO` when set, with the timing of
    `$SANDBOX_HEALTH_REFRESH_SECONDS` and `$SANDBOX_RBAC_DELAY_SECONDS` when set."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = Sandbox(os.environ.get("SANDBOX_SCENARIO") or None)
            _instance.set_timing(**env_timing())  # the environment beats the scenario
        return _instance


def env_timing() -> dict[str, float]:
    """The timing options the environment sets (ValueError naming a bad variable)."""
    return timing_options(os.environ, TIMING_ENV)


def set_sandbox(sandbox: Sandbox | None) -> None:
    """Replace (or with None, drop) the singleton; for tests and hosts that build their own."""
    global _instance
    with _lock:
        _instance = sandbox


def handle_http(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> HttpResult:
    """Serve one `/_sandbox/...` control request (or forwarded ARM/KV request) on the singleton."""
    try:
        return serve_http(get_sandbox(), method, path, query, headers, body)
    except SimulatedTimeoutError as err:
        return 504, {"Content-Type": "application/json"}, json.dumps({"error": str(err)}).encode()
    except HostNotFoundError as err:
        return 502, {"Content-Type": "application/json"}, json.dumps({"error": str(err)}).encode()
