"""The nouns of the product: what cachekeeper observes in Azure and what it decides and records.

All are frozen dataclasses built by adapters from SDK objects (or by tests directly). Nothing here
does I/O; timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.domain.ids import ResourceId
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.secrets import SecretRef

__all__ = [
    "KEY_VAULT_SECRETS_USER",
    "AccessPolicy",
    "CacheRule",
    "CredentialHealth",
    "CredentialSet",
    "HealthStatus",
    "Permission",
    "RoleAssignment",
    "RoleDefinition",
    "SecretVersion",
    "VaultAccess",
    "sets_by_secret",
]

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
"""The only role cachekeeper ever grants: read secret values, nothing else."""


class HealthStatus(StrEnum):
    HEALTHY = "Healthy"
    UNHEALTHY = "Unhealthy"
    UNKNOWN = "Unknown"


@dataclass(frozen=True, slots=True)
class CredentialHealth:
    """`credentialHealth` of a credential set as ACR reports it."""

    status: HealthStatus = HealthStatus.UNKNOWN
    error_code: str | None = None
    error_message: str | None = None

    @property
    def is_healthy(self) -> bool:
        return self.status is HealthStatus.HEALTHY


@dataclass(frozen=True, slots=True)
class CredentialSet:
    """An ACR credential set: two Key Vault secret references read by its own identity."""

    id: ResourceId
    login_server: str
    username: SecretRef
    password: SecretRef
    principal_id: str | None = None
    health: CredentialHealth = field(default_factory=CredentialHealth)
    provisioning_state: str | None = None

    @property
    def name(self) -> str:
        return self.id.name

    @property
    def registry(self) -> ResourceId:
        """The registry the credential set belongs to."""
        parent = self.id.parent
        assert parent is not None  # a credential set id always has a registry parent
        return parent

    def secrets(self) -> tuple[SecretRef, ...]:
        """The distinct secrets it reads (one when username and password share a secret)."""
        if self.username == self.password:
            return (self.username,)
        return (self.username, self.password)

    def references(self, secret: SecretRef) -> bool:
        """True when either reference points at `secret` (any version)."""
        return self.username.same_secret(secret) or self.password.same_secret(secret)


def sets_by_secret(
    credential_sets: Iterable[CredentialSet],
) -> Mapping[SecretRef, tuple[CredentialSet, ...]]:
    """Which credential sets read each secret (versionless key): one pass over the sets, then a
    secret's users are one lookup instead of a scan of the fleet. Order of the input is kept."""
    index: dict[SecretRef, list[CredentialSet]] = {}
    for credential_set in credential_sets:
        for ref in {r.versionless() for r in (credential_set.username, credential_set.password)}:
            index.setdefault(ref, []).append(credential_set)
    return {ref: tuple(users) for ref, users in index.items()}


@dataclass(frozen=True, slots=True)
class CacheRule:
    """An ACR cache rule: pulls of `target` in the registry are served from `source` upstream."""

    id: ResourceId
    source: Upstream
    target: TargetPath
    credential_set_id: ResourceId | None = None
    provisioning_state: str | None = None

    @property
    def name(self) -> str:
        return self.id.name

    @property
    def registry(self) -> ResourceId:
        parent = self.id.parent
        assert parent is not None  # a cache rule id always has a registry parent
        return parent

    @property
    def is_wildcard(self) -> bool:
        return self.target.is_wildcard


@dataclass(frozen=True, slots=True)
class SecretVersion:
    """Metadata of one secret version (never its value)."""

    ref: SecretRef
    enabled: bool
    created: datetime | None = None
    updated: datetime | None = None
    not_before: datetime | None = None
    expires: datetime | None = None

    @property
    def version(self) -> str:
        assert self.ref.version is not None  # versions are always versioned references
        return self.ref.version

    def validity_problem(self, now: datetime) -> str | None:
        """Why this version cannot be used at `now`, or None when it can."""
        if not self.enabled:
            return "disabled"
        if self.not_before is not None and self.not_before > now:
            return f"not valid before {self.not_before.isoformat()}"
        if self.expires is not None and self.expires <= now:
            return f"expired at {self.expires.isoformat()}"
        return None

    def is_valid_at(self, now: datetime) -> bool:
        """Enabled, nbf <= now and exp > now."""
        return self.validity_problem(now) is None


@dataclass(frozen=True, slots=True)
class Permission:
    """One permission block of a role definition."""

    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    """A built-in or custom Azure role; `id` is the role's GUID."""

    id: str
    role_name: str
    permissions: tuple[Permission, ...]
    is_custom: bool = False


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A role granted to a principal at a scope; `role_definition_id` is the role's GUID."""

    id: str
    scope: ResourceId
    role_definition_id: str
    principal_id: str
    principal_type: str | None = None
    condition: str | None = None


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """A Key Vault access policy entry (access-policy permission model)."""

    tenant_id: str
    object_id: str
    secret_permissions: tuple[str, ...] = ()
    application_id: str | None = None


@dataclass(frozen=True, slots=True)
class VaultAccess:
    """How a vault authorizes data access: RBAC, or its access policies."""

    vault_id: ResourceId
    rbac: bool
    access_policies: tuple[AccessPolicy, ...] = ()
