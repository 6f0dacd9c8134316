"""ARM JSON of tokens and scope maps (api-version 2025-11-01), and their write bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.clock import parse_time
from sandbox.env import format_time
from sandbox.errors import bad_request
from sandbox.state import Registry, new_secret_value
from sandbox.state_auth import ROLE_ASSIGNMENT_MODES, ScopeMap, Token, TokenPassword

TOKEN_TYPE = "Microsoft.ContainerRegistry/registries/tokens"
SCOPE_MAP_TYPE = "Microsoft.ContainerRegistry/registries/scopeMaps"
PASSWORD_NAMES = ("password1", "password2")


def scope_map_json(registry: Registry, scope_map: ScopeMap) -> dict[str, Any]:
    """A scope map as `ScopeMaps_Get` returns it."""
    return {
        "id": f"{registry.id}/scopeMaps/{scope_map.name}",
        "name": scope_map.name,
        "type": SCOPE_MAP_TYPE,
        "properties": {
            "description": scope_map.description,
            "creationDate": format_time(scope_map.created),
            "type": scope_map.kind,
            "actions": list(scope_map.actions),
            "provisioningState": "Succeeded",
        },
    }


def password_json(entry: TokenPassword, *, with_value: bool = False) -> dict[str, Any]:
    """A token password; its value only where ACR hands it out (generateCredentials)."""
    out: dict[str, Any] = {"name": entry.name, "creationTime": format_time(entry.created)}
    if entry.expiry is not None:
        out["expiry"] = format_time(entry.expiry)
    if with_value:
        out["value"] = entry.value
    return out


def token_json(registry: Registry, token: Token) -> dict[str, Any]:
    """A token as `Tokens_Get` returns it (password values never)."""
    properties: dict[str, Any] = {
        "creationDate": format_time(token.created),
        "provisioningState": "Succeeded",
        "status": token.status,
        "credentials": {
            "certificates": [],
            "passwords": [password_json(p) for p in token.passwords],
        },
    }
    if token.scope_map_id:
        properties["scopeMapId"] = token.scope_map_id
    return {
        "id": f"{registry.id}/tokens/{token.name}",
        "name": token.name,
        "type": TOKEN_TYPE,
        "properties": properties,
    }


def parse_actions(props: dict[str, Any], *, required: bool) -> list[str] | None:
    """`properties.actions`: a list of strings (required on create)."""
    actions = props.get("actions")
    if actions is None and not required:
        return None
    if not isinstance(actions, list) or not all(isinstance(a, str) and a for a in actions):
        raise bad_request("InvalidRequestContent", "properties.actions must be a list of strings.")
    return list(actions)


def parse_status(props: dict[str, Any], default: str) -> str:
    """`properties.status`: enabled | disabled."""
    status = props.get("status", default)
    if not isinstance(status, str) or status.lower() not in ("enabled", "disabled"):
        raise bad_request("InvalidRequestContent", "properties.status must be enabled or disabled.")
    return status.lower()


def parse_scope_map_id(registry: Registry, props: dict[str, Any]) -> str | None:
    """`properties.scopeMapId`, which must name a scope map of this registry."""
    ref = props.get("scopeMapId")
    if ref is None:
        return None
    prefix = f"{registry.id}/scopeMaps/".lower()
    if not isinstance(ref, str) or not ref.lower().startswith(prefix):
        raise bad_request(
            "InvalidScopeMapId", f"scopeMapId must be a scope map of {registry.name}."
        )
    if ref[len(prefix) :].lower() not in registry.auth.scope_maps:
        raise bad_request("ScopeMapNotFound", f"The scope map '{ref}' does not exist.")
    return ref


def parse_expiry(raw: Any) -> datetime | None:
    """An optional ISO 8601 expiry."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise bad_request("InvalidRequestContent", "expiry must be an ISO 8601 date-time.")
    try:
        return parse_time(raw)
    except ValueError as err:
        raise bad_request("InvalidRequestContent", f"expiry '{raw}' is not a date-time.") from err


def new_password(name: str, now: datetime, expiry: datetime | None) -> TokenPassword:
    """A fresh password value for `password1` / `password2`."""
    if name not in PASSWORD_NAMES:
        raise bad_request("InvalidRequestContent", "the password name is password1 or password2.")
    return TokenPassword(name, new_secret_value(), now, expiry)


def parse_mode(props: dict[str, Any], default: str) -> str:
    """`properties.roleAssignmentMode`."""
    mode = props.get("roleAssignmentMode", default)
    for known in ROLE_ASSIGNMENT_MODES:
        if isinstance(mode, str) and mode.lower() == known.lower():
            return known
    listed = ", ".join(ROLE_ASSIGNMENT_MODES)
    raise bad_request("InvalidRequestContent", f"roleAssignmentMode must be one of {listed}.")


def parse_admin(props: dict[str, Any], default: bool) -> bool:
    """`properties.adminUserEnabled`."""
    value = props.get("adminUserEnabled", default)
    if not isinstance(value, bool):
        raise bad_request("InvalidRequestContent", "adminUserEnabled must be a boolean.")
    return value
