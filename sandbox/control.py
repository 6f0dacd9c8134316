"""The HTTP control surface under `/_sandbox/` (JSON in, JSON out); see README.md."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sandbox.control_pull import PULL_ROUTES
from sandbox.control_reset import RESET_ROUTES
from sandbox.control_topics import TOPIC_ROUTES
from sandbox.env import TIMING_FIELDS, timing_options
from sandbox.faults import FaultRule
from sandbox.scenario import ScenarioError
from sandbox.set_controls import SET_ROUTES
from sandbox.summary import state_summary

if TYPE_CHECKING:
    from sandbox.core import Sandbox

HttpResult = tuple[int, dict[str, str], bytes]
_Route = Callable[["Sandbox", dict[str, str], dict[str, str], bytes], tuple[int, Any]]
PREFIX = "/_sandbox"


class ControlError(Exception):
    """A 4xx answer from the control surface."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as err:
        raise ControlError(400, f"body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _state(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    return 200, state_summary(sb)


def _load(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    try:
        sb.load_scenario(body if body.strip() else q.get("path", ""))
    except (ScenarioError, OSError, KeyError, TypeError) as err:
        raise ControlError(400, f"cannot load scenario: {err}") from err
    return 200, state_summary(sb)


def _requests(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    records = sb.requests_matching(
        q.get("path"), method=q.get("method"), writes_only=q.get("writes") == "true"
    )
    return 200, {"count": len(records), "requests": [r.as_json() for r in records]}


def _clear_requests(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    sb.log.clear()
    return 204, None


def _clock(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json(body)
    if "now" in data:
        sb.clock.set(data["now"])
    if "advanceSeconds" in data:
        sb.clock.advance(float(data["advanceSeconds"]))
    if data.get("real"):
        sb.clock.use_real_time()
    return 200, {"now": sb.clock.now().isoformat(), "pinned": sb.clock.pinned}


def _options(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json(body)
    throttling = data.pop("throttling", None)  # the scenario's `throttling:` fields
    unknown = sorted(set(data) - set(TIMING_FIELDS))
    if unknown:
        raise ControlError(400, f"unknown option(s): {', '.join(unknown)}")
    try:
        sb.set_throttling(throttling or {})
        return 200, sb.set_timing(**timing_options(data, TIMING_FIELDS))
    except ValueError as err:
        raise ControlError(400, str(err)) from err


def _faults(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json(body)
    if "seed" in data:
        sb.faults.seed(int(data["seed"]))
    if "kind" in data:
        try:
            sb.faults.add(
                FaultRule(
                    kind=str(data["kind"]),
                    pattern=data.get("pattern"),
                    method=data.get("method"),
                    host=data.get("host"),
                    rate=float(data.get("rate", 1.0)),
                    remaining=None if "rate" in data else int(data.get("count", 1)),
                    retry_after=int(data.get("retryAfter", 0)),
                    latency_ms=int(data.get("latencyMs", 0)),
                )
            )
        except ValueError as err:
            raise ControlError(400, str(err)) from err
    return 200, {"faults": [r.as_json() for r in sb.faults.rules()]}


def _list_faults(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    return 200, {"faults": [r.as_json() for r in sb.faults.rules()]}


def _clear_faults(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    sb.faults.clear()
    return 204, None


def _new_version(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    data = _json(body)
    return 201, sb.add_secret_version(
        p["vault"],
        p["name"],
        value=data.get("value"),
        enabled=bool(data.get("enabled", True)),
        not_before=data.get("nbf"),
        expires=data.get("exp"),
        content_type=data.get("contentType"),
        tags=data.get("tags"),
    )


def _update_version(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    data = _json(body)
    changes = {
        k: data[j]
        for j, k in (("enabled", "enabled"), ("nbf", "not_before"), ("exp", "expires"))
        if j in data
    }
    if p.get("action") == "disable":
        changes["enabled"] = False
    elif p.get("action") == "enable":
        changes["enabled"] = True
    version = sb.update_secret_version(p["vault"], p["name"], p["version"], **changes)
    return 200, {"version": version.version, "enabled": version.enabled}


def _add_assignment(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    data = _json(body)
    try:
        assignment = sb.add_role_assignment(
            str(data["principalId"]),
            str(data["role"]),
            data["scope"],
            principal_type=str(data.get("principalType", "ServicePrincipal")),
            condition=data.get("condition"),
            assignment_id=data.get("id"),
        )
    except KeyError as err:
        raise ControlError(400, f"missing field {err}") from err
    return 201, {k: str(v) for k, v in asdict(assignment).items() if v is not None}


def _remove_assignments(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    filters = {
        "assignment_id": p.get("id") or q.get("id"),
        "principal_id": q.get("principalId"),
        "scope": q.get("scope"),
    }
    if not any(filters.values()):
        raise ControlError(400, "give an assignment id, principalId or scope")
    return 200, {"removed": sb.remove_role_assignments(**filters)}


def _access_policy(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    data = _json(body)
    secrets = [] if p.get("object") else list(data.get("secrets", ["get", "list"]))
    application = data.get("applicationId")
    sb.set_access_policy(
        p["vault"],
        p.get("object") or str(data["objectId"]),
        secrets,
        application_id=str(application) if application else None,
    )
    return 200, {"accessPolicies": sb.vault(p["vault"]).access_policies}


def _repository(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    sb.add_repository(p["registry"], str(_json(body)["name"]))
    return 201, {"repositories": sorted(sb.registry(p["registry"]).repositories)}


def _remove_diagnostic_setting(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    return 200, {"removed": sb.remove_diagnostic_setting(p["registry"], p["name"])}


def _diagnostic_setting(
    sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes
) -> tuple[int, Any]:
    data = _json(body)
    sb.set_diagnostic_setting(
        p["registry"],
        p["name"],
        workspace_id=data.get("workspaceId"),
        categories=data.get("categories"),
        properties=data.get("properties"),
    )
    return 200, {"name": p["name"]}


_V = r"/vaults/(?P<vault>[^/]+)/secrets/(?P<name>[^/]+)"
_DIAG = r"^/registries/(?P<registry>[^/]+)/diagnosticSettings/(?P<name>[^/]+)$"
ROUTES: list[tuple[str, re.Pattern[str], _Route]] = [
    ("GET", re.compile(r"^/state$"), _state),
    ("POST", re.compile(r"^/scenario$"), _load),
    *RESET_ROUTES,
    ("GET", re.compile(r"^/requests$"), _requests),
    ("DELETE", re.compile(r"^/requests$"), _clear_requests),
    ("POST", re.compile(r"^/clock$"), _clock),
    ("GET", re.compile(r"^/clock$"), _clock),
    ("GET", re.compile(r"^/options$"), _options),
    ("POST", re.compile(r"^/options$"), _options),
    ("POST", re.compile(r"^/faults$"), _faults),
    ("GET", re.compile(r"^/faults$"), _list_faults),
    ("DELETE", re.compile(r"^/faults$"), _clear_faults),
    ("POST", re.compile(f"^{_V}$"), _new_version),
    ("PATCH", re.compile(f"^{_V}/versions/(?P<version>[^/]+)$"), _update_version),
    (
        "POST",
        re.compile(f"^{_V}/versions/(?P<version>[^/]+)/(?P<action>enable|disable)$"),
        _update_version,
    ),
    ("POST", re.compile(r"^/roleAssignments$"), _add_assignment),
    ("DELETE", re.compile(r"^/roleAssignments(?:/(?P<id>[^/]+))?$"), _remove_assignments),
    ("POST", re.compile(r"^/vaults/(?P<vault>[^/]+)/accessPolicies$"), _access_policy),
    (
        "DELETE",
        re.compile(r"^/vaults/(?P<vault>[^/]+)/accessPolicies/(?P<object>[^/]+)$"),
        _access_policy,
    ),
    ("POST", re.compile(r"^/registries/(?P<registry>[^/]+)/repositories$"), _repository),
    ("PUT", re.compile(_DIAG), _diagnostic_setting),
    ("DELETE", re.compile(_DIAG), _remove_diagnostic_setting),
    *PULL_ROUTES,
    *TOPIC_ROUTES,
    *SET_ROUTES,
]


def handle_control(
    sb: Sandbox, method: str, path: str, query: dict[str, str], body: bytes
) -> HttpResult:
    """Serve one `/_sandbox/...` request; never touched by fault injection."""
    sub = path[len(PREFIX) :] if path.startswith(PREFIX) else path
    sub = "/" + sub.strip("/")
    try:
        for verb, pattern, route in ROUTES:
            match = pattern.match(sub)
            if match and verb == method.upper():
                params = {k: v for k, v in match.groupdict().items() if v is not None}
                status, payload = route(sb, params, query, body)
                return _reply(status, payload)
        raise ControlError(404, f"no control operation {method} {path}")
    except ControlError as err:
        return _reply(err.status, {"error": str(err)})
    except KeyError as err:
        return _reply(404, {"error": f"not found: {err}"})
    except (ValueError, TypeError, ScenarioError) as err:
        return _reply(400, {"error": str(err)})


def _reply(status: int, payload: Any) -> HttpResult:
    if payload is None:
        return status, {}, b""
    return status, {"Content-Type": "application/json"}, json.dumps(payload, default=str).encode()
