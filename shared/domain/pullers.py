"""Who pulls from a registry and how the registry authenticates them: the nouns of puller access.

A pull reaches ACR as an Entra identity (role assignments), as the registry's admin user
(`adminUserEnabled`), or as a repository-scoped token (its scope map). `Puller` is what a signal
says about who pulled; `puller_from_logged_identity` reads the `Identity` column ACR logs, whose
format is documented only for managed identities (an object id): a value equal to the registry's
name is its admin user, another name-shaped value a token, anything else unknown
(docs/fidelity.md, "Puller access").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.domain.ids import ResourceId

__all__ = [
    "ACR_PULL",
    "CONTENT_READ",
    "PULL_READ",
    "REPOSITORY_READER",
    "Puller",
    "PullerKind",
    "RegistryAuth",
    "RegistryToken",
    "ScopeMap",
    "abac_repository_condition",
    "puller_from_logged_identity",
]

PULL_READ = "Microsoft.ContainerRegistry/registries/pull/read"
"""What pulls in a registry in RBAC registry-permissions mode (an action, not a data action)."""
CONTENT_READ = "Microsoft.ContainerRegistry/registries/repositories/content/read"
"""What pulls a repository in ABAC repository-permissions mode (a data action)."""
METADATA_READ = "Microsoft.ContainerRegistry/registries/repositories/metadata/read"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"
"""Container Registry Repository Reader: the least role that pulls in ABAC mode."""
REPOSITORY_NAME = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I | re.ASCII)
_NULL_GUID = "00000000-0000-0000-0000-000000000000"
_TOKEN_NAME = re.compile(r"[A-Za-z0-9-]{5,50}", re.ASCII)


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """What ARM says about a registry's own authentication."""

    registry: ResourceId
    admin_user_enabled: bool
    abac_repository_permissions: bool  # roleAssignmentMode == "AbacRepositoryPermissions"


@dataclass(frozen=True, slots=True)
class ScopeMap:
    id: ResourceId
    actions: tuple[str, ...]  # e.g. "repositories/team/app/content/read"


@dataclass(frozen=True, slots=True)
class RegistryToken:
    id: ResourceId
    name: str
    enabled: bool  # status == "enabled"
    scope_map_id: ResourceId | None
    password_expiries: tuple[datetime | None, ...]  # credentials.passwords[].expiry

    def usable_passwords(self, now: datetime) -> int:
        """How many of its passwords have not expired at `now` (no expiry: never)."""
        return sum(1 for e in self.password_expiries if e is None or e > now)


class PullerKind(StrEnum):
    ENTRA = "entra"
    ADMIN_USER = "admin-user"
    TOKEN = "token"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Puller:
    """Who pulled, as the signal names it."""

    kind: PullerKind
    id: str  # Entra object id, admin username, or token name

    def describe(self) -> str:
        return {
            PullerKind.ENTRA: f"Entra identity {self.id}",
            PullerKind.ADMIN_USER: f"the admin user {self.id}",
            PullerKind.TOKEN: f"token {self.id}",
            PullerKind.UNKNOWN: f"identity {self.id!r}",
        }[self.kind]

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "id": self.id}


def puller_from_logged_identity(value: object, registry_name: str) -> Puller | None:
    """The puller an `Identity` log value names; None when it names nobody."""
    if not isinstance(value, str):
        return None
    text = value.strip()[:256]
    if not text or text.lower() in ("unknown", "none", "null", _NULL_GUID):
        return None
    if _GUID.fullmatch(text):
        return Puller(PullerKind.ENTRA, text.lower())
    if text.lower() == registry_name.lower():
        return Puller(PullerKind.ADMIN_USER, text)
    if _TOKEN_NAME.fullmatch(text):
        return Puller(PullerKind.TOKEN, text)
    return Puller(PullerKind.UNKNOWN, text)


def abac_repository_condition(repository: str) -> str:
    """The documented ABAC condition allowing content and metadata reads of one repository."""
    return (
        f"((!(ActionMatches{{'{CONTENT_READ}'}}) AND !(ActionMatches{{'{METADATA_READ}'}}))"
        f" OR ({REPOSITORY_NAME} StringEqualsIgnoreCase '{repository}'))"
    )
