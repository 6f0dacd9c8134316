"""Scenario keys of a registry's own authentication (camelCase, as the ARM JSON):

adminUserEnabled: true
roleAssignmentMode: AbacRepositoryPermissions
scopeMaps: [{name: team-pull, actions: [repositories/team/*/content/read]}]
tokens: [{name: ci-token, scopeMap: team-pull, status: enabled,
          passwords: [{name: password1, value: s3cret, expiry: +1d}]}]
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.state import Registry, new_secret_value
from sandbox.state_auth import ROLE_ASSIGNMENT_MODES, ScopeMap, Token, TokenPassword


class RegistryAuthError(ValueError):
    """A malformed authentication entry (the scenario loader reports it as a ScenarioError)."""


def load_registry_auth(
    registry: Registry,
    item: dict[str, Any],
    now: datetime,
    when: Callable[[Any, datetime], datetime | None],
) -> None:
    """Seed `registry.auth` from a scenario registry entry (`when` reads the scenario's times)."""
    auth = registry.auth
    auth.admin_user_enabled = bool(item.get("adminUserEnabled", False))
    mode = str(item.get("roleAssignmentMode", auth.role_assignment_mode))
    if mode not in ROLE_ASSIGNMENT_MODES:
        raise RegistryAuthError(f"roleAssignmentMode must be one of {ROLE_ASSIGNMENT_MODES}")
    auth.role_assignment_mode = mode
    auth.admin_passwords = [str(p) for p in item.get("adminPasswords") or []]
    for raw in item.get("scopeMaps") or []:
        name = str(raw["name"])
        auth.scope_maps[name.lower()] = ScopeMap(
            name, [str(a) for a in raw.get("actions") or []], now, str(raw.get("description", ""))
        )
    for raw in item.get("tokens") or []:
        ref = raw.get("scopeMapId") or raw.get("scopeMap")
        if ref and not str(ref).startswith("/"):
            ref = f"{registry.id}/scopeMaps/{ref}"
        token = Token(str(raw["name"]), str(ref) if ref else None, now)
        token.status = str(raw.get("status", "enabled")).lower()
        for spec in raw.get("passwords") or []:
            value = str(spec.get("value") or new_secret_value())
            token.passwords.append(
                TokenPassword(
                    str(spec.get("name", "password1")), value, now, when(spec.get("expiry"), now)
                )
            )
        auth.tokens[token.name.lower()] = token
