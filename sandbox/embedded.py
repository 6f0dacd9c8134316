"""The process-wide sandbox used by the local dev host (`/_sandbox/` is mounted here)."""

from __future__ import annotations

import json
import os
import threading

from sandbox.control import HttpResult
from sandbox.core import Sandbox
from sandbox.errors import HostNotFoundError, SimulatedTimeoutError
from sandbox.httpapi import serve_http

_lock = threading.Lock()
_instance: Sandbox | None = None


def get_sandbox() -> Sandbox:
    """The singleton, created on first use from `$SANDBOX_SCENARIO` when set."""
    global _instance
    with _lock:
        if _instance is None:
            scenario = os.environ.get("SANDBOX_SCENARIO")
            _instance = Sandbox(scenario) if scenario else Sandbox()
        return _instance


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
