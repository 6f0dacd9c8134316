"""The registry's own authentication: admin user, scope maps, tokens, issued data-plane tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

LEGACY_MODE = "LegacyRegistryPermissions"
ABAC_MODE = "AbacRepositoryPermissions"
ROLE_ASSIGNMENT_MODES = (LEGACY_MODE, ABAC_MODE)


@dataclass
class ScopeMap:
    """A scope map: repository actions such as `repositories/team/app/content/read`."""

    name: str
    actions: list[str]
    created: datetime
    description: str = ""
    kind: str = "IsUserDefined"  # ARM `type`, as the spec's examples show it


@dataclass
class TokenPassword:
    """One token password (`password1` / `password2`); the value is handed out once."""

    name: str
    value: str
    created: datetime
    expiry: datetime | None = None


@dataclass
class Token:
    """A repository-scoped token: its name is the user name, one of its passwords the password."""

    name: str
    scope_map_id: str | None
    created: datetime
    status: str = "enabled"  # enabled | disabled
    passwords: list[TokenPassword] = field(default_factory=list)


@dataclass
class RegistryAuth:
    """What the registry itself says about authentication (ARM `properties`)."""

    admin_user_enabled: bool = False
    role_assignment_mode: str = LEGACY_MODE
    admin_passwords: list[str] = field(default_factory=list)  # password, password2
    scope_maps: dict[str, ScopeMap] = field(default_factory=dict)  # lower-case name ->
    tokens: dict[str, Token] = field(default_factory=dict)  # lower-case name ->


@dataclass(frozen=True)
class IssuedCredential:
    """A refresh or access token the data plane handed out: who it is for, under which
    role-assignment mode, and (access tokens) the repositories it may pull."""

    kind: str  # entra | admin | token
    identity: str  # object id, admin user name, token name
    mode: str
    issued: datetime
    pullable: frozenset[str] = frozenset()  # lower-case repository names
