"""`/_sandbox` control routes for pulls and the registry's own authentication."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.core import Sandbox

_Route = Callable[["Sandbox", dict[str, str], dict[str, str], bytes], tuple[int, Any]]


def _body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError as err:
        raise ValueError(f"the body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _pull(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"repository", "reference"?, "principalId" | "admin" | "token" + "password"}`."""
    data = _body(raw)
    if not isinstance(data.get("repository"), str):
        raise ValueError("repository is required")
    status = sb.pull(
        p["registry"],
        data["repository"],
        str(data.get("reference") or "latest"),
        as_principal=data.get("principalId"),
        admin=bool(data.get("admin")),
        token=data.get("token"),
        password=data.get("password"),
    )
    return 200, {"status": status}


def _pull_log(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    return 200, sb.pull_log(q.get("table"))


def _admin_user(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"enabled": bool}` (the passwords come from ARM `listCredentials`)."""
    enabled = _body(raw).get("enabled")
    if not isinstance(enabled, bool):
        raise ValueError("enabled must be true or false")
    sb.set_admin_user(p["registry"], enabled)
    return 200, {"enabled": enabled, "username": sb.registry(p["registry"]).name}


def _mode(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"mode": "LegacyRegistryPermissions" | "AbacRepositoryPermissions"}`."""
    sb.set_role_assignment_mode(p["registry"], str(_body(raw).get("mode")))
    return 200, {"roleAssignmentMode": _body(raw).get("mode")}


def _token(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"name", "actions": [...], "enabled"?, "expiry"?}`; answers the token's password."""
    data = _body(raw)
    actions = data.get("actions")
    if not isinstance(data.get("name"), str) or not isinstance(actions, list):
        raise ValueError("name and actions are required")
    password = sb.add_token(
        p["registry"], data["name"], [str(a) for a in actions],
        enabled=bool(data.get("enabled", True)), expiry=data.get("expiry"),
    )  # fmt: skip
    return 201, {"name": data["name"], "password": password}


def _set_token(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"enabled"?, "actions"?, "expiry"?}`."""
    data = _body(raw)
    actions = data.get("actions")
    sb.set_token(
        p["registry"], p["name"], enabled=data.get("enabled"),
        scope_map_actions=None if actions is None else [str(a) for a in actions],
        expiry=data.get("expiry"),
    )  # fmt: skip
    return 200, {"name": p["name"]}


def _pull_options(sb: Sandbox, p: dict[str, str], q: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """Body `{"exchangeRequiresRole"?: bool, "rbacDeniedStatus"?: 401|403, "tokenDeniedStatus"?,
    "directoryReadable"?: bool}`."""
    data = _body(raw)
    known = {"exchangeRequiresRole", "rbacDeniedStatus", "tokenDeniedStatus", "directoryReadable"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown pull option(s): {', '.join(unknown)}")
    flag, readable = data.get("exchangeRequiresRole"), data.get("directoryReadable")
    for name, value in (("exchangeRequiresRole", flag), ("directoryReadable", readable)):
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
    return 200, sb.set_pull_options(
        exchange_requires_role=flag,
        directory_readable=readable,
        rbac_denied_status=data.get("rbacDeniedStatus"),
        token_denied_status=data.get("tokenDeniedStatus"),
    )


_R = r"^/registries/(?P<registry>[^/]+)"
PULL_ROUTES: list[tuple[str, re.Pattern[str], _Route]] = [
    ("POST", re.compile(_R + r"/pull$"), _pull),
    ("GET", re.compile(r"^/pullLog$"), _pull_log),
    ("GET", re.compile(r"^/pullOptions$"), _pull_options),
    ("POST", re.compile(r"^/pullOptions$"), _pull_options),
    ("POST", re.compile(_R + r"/adminUser$"), _admin_user),
    ("POST", re.compile(_R + r"/roleAssignmentMode$"), _mode),
    ("POST", re.compile(_R + r"/tokens$"), _token),
    ("PATCH", re.compile(_R + r"/tokens/(?P<name>[^/]+)$"), _set_token),
]
