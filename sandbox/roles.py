"""Role definitions: the built-ins shipped in `sandbox/roles/` and custom ones from scenarios."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.state import Permission, RoleDefinition

ROLES_DIR = Path(__file__).parent / "roles"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def role_from_json(data: dict[str, Any], *, default_type: str = "CustomRole") -> RoleDefinition:
    """Build a role from the docs' flat JSON or ARM's `properties` shape."""
    props = data.get("properties", data)
    guid = str(data.get("name") or data.get("id") or props.get("id", "")).rsplit("/", 1)[-1]
    return RoleDefinition(
        guid=guid.lower(),
        role_name=str(props.get("roleName") or props.get("name") or guid),
        # ARM puts BuiltInRole/CustomRole in properties.type; the docs' JSON in roleType.
        role_type=str(
            props.get("roleType") or ("properties" in data and props.get("type")) or default_type
        ),
        description=str(props.get("description") or ""),
        assignable_scopes=list(props.get("assignableScopes") or ["/"]),
        permissions=[
            Permission(
                list(p.get("actions") or []),
                list(p.get("notActions") or []),
                list(p.get("dataActions") or []),
                list(p.get("notDataActions") or []),
            )
            for p in props.get("permissions") or []
        ],
    )


@cache
def _builtin_json() -> tuple[str, ...]:
    return tuple(p.read_text() for p in sorted(ROLES_DIR.glob("*.json")))


def builtin_roles() -> dict[str, RoleDefinition]:
    """Fresh copies of the built-in roles, keyed by GUID."""
    roles = [role_from_json(json.loads(t), default_type="BuiltInRole") for t in _builtin_json()]
    return {r.guid: r for r in roles}
