"""The in-memory model of the emulated Azure resources."""

from __future__ import annotations

import secrets as _random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.state_auth import IssuedCredential, RegistryAuth

DEFAULT_TENANT = "00000000-0000-0000-0000-0000000000aa"


def new_guid() -> str:
    """A fresh lower-case GUID string."""
    return str(uuid.uuid4())


def new_version_id() -> str:
    """A Key Vault style version id: 32 lower-case hex characters."""
    return uuid.uuid4().hex


def new_secret_value() -> str:
    """A random stand-in secret value (never needed by the product)."""
    return _random.token_urlsafe(24)


@dataclass
class AuthCredential:
    """One entry of a credential set's `authCredentials`."""

    name: str
    username_uri: str
    password_uri: str


@dataclass
class CredentialSet:
    """An ACR credential set. Its health is computed from current state (every read, or, with
    `health_refresh_seconds`, on write and then on ACR's schedule: the last evaluation is kept in
    `reported_health`, made at `health_evaluated_at`)."""

    name: str
    login_server: str
    credentials: list[AuthCredential]
    identity_type: str
    principal_id: str | None
    tenant_id: str | None
    created: datetime
    provisioning_state: str = "Succeeded"
    reported_health: list[Any] = field(default_factory=list)  # health.Health per credential
    health_evaluated_at: datetime | None = None


@dataclass
class CacheRule:
    """An ACR cache rule."""

    name: str
    source: str
    target: str
    credential_set_id: str | None
    created: datetime
    provisioning_state: str = "Succeeded"

    @property
    def is_wildcard(self) -> bool:
        """Whether the rule maps a whole namespace (`…/*` or `*`)."""
        return self.target == "*" or self.target.endswith("/*")


@dataclass
class Registry:
    """An ACR registry and the artifact-cache resources under it."""

    subscription: str
    resource_group: str
    name: str
    location: str
    sku: str
    created: datetime
    tags: dict[str, str] = field(default_factory=dict)
    repositories: set[str] = field(default_factory=set)
    credential_sets: dict[str, CredentialSet] = field(default_factory=dict)
    cache_rules: dict[str, CacheRule] = field(default_factory=dict)
    # Microsoft.Insights/diagnosticSettings at the registry: lower-case name -> (name, properties)
    diagnostic_settings: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    auth: RegistryAuth = field(default_factory=RegistryAuth)  # admin user, tokens, scope maps

    @property
    def id(self) -> str:
        """ARM resource id."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerRegistry/registries/{self.name}"
        )

    @property
    def login_server(self) -> str:
        """`<name>.azurecr.io` (lower-case, as ACR reports it)."""
        return f"{self.name.lower()}.azurecr.io"

    def credential_set_id(self, name: str) -> str:
        """ARM id of a credential set in this registry."""
        return f"{self.id}/credentialSets/{name}"


@dataclass
class SecretVersion:
    """One version of a Key Vault secret."""

    version: str
    value: str
    created: datetime
    updated: datetime
    enabled: bool = True
    not_before: datetime | None = None
    expires: datetime | None = None
    content_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Secret:
    """A Key Vault secret: its versions in creation order (the last is the current one)."""

    name: str
    versions: list[SecretVersion] = field(default_factory=list)

    @property
    def latest(self) -> SecretVersion | None:
        """The current (most recently created) version."""
        return self.versions[-1] if self.versions else None

    def find(self, version: str) -> SecretVersion | None:
        """The version with this id (case-insensitive), if any."""
        for item in self.versions:
            if item.version.lower() == version.lower():
                return item
        return None


@dataclass
class Vault:
    """A Key Vault, in RBAC or access-policy permission model."""

    subscription: str
    resource_group: str
    name: str
    location: str
    tenant_id: str
    rbac: bool
    access_policies: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, Secret] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    extra_properties: dict[str, Any] = field(default_factory=dict)  # passed through to ARM JSON

    @property
    def id(self) -> str:
        """ARM resource id."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.KeyVault/vaults/{self.name}"
        )

    @property
    def uri(self) -> str:
        """Data-plane base URL, with the trailing slash ARM reports."""
        return f"https://{self.name.lower()}.vault.azure.net/"

    def secret_scope(self, secret_name: str) -> str:
        """RBAC scope of one secret."""
        return f"{self.id}/secrets/{secret_name}"


@dataclass
class Permission:
    """One permission block of a role definition."""

    actions: list[str] = field(default_factory=list)
    not_actions: list[str] = field(default_factory=list)
    data_actions: list[str] = field(default_factory=list)
    not_data_actions: list[str] = field(default_factory=list)


@dataclass
class RoleDefinition:
    """A built-in or custom role definition, keyed by its GUID."""

    guid: str
    role_name: str
    role_type: str
    description: str
    assignable_scopes: list[str]
    permissions: list[Permission]


@dataclass
class RoleAssignment:
    """A role assignment: who (principal) gets what (role) where (scope)."""

    guid: str
    scope: str
    role_definition_guid: str
    principal_id: str
    principal_type: str
    created: datetime
    condition: str | None = None
    condition_version: str | None = None
    description: str | None = None
    effective_at: datetime | None = None  # when access evaluation honours it (None: at once)


@dataclass
class Operation:
    """A pending or finished ARM long-running operation."""

    op_id: str
    kind: str  # "create", "update" or "delete"
    registry_key: tuple[str, str, str]
    collection: str  # "cacheRules" or "credentialSets"
    name: str
    started: datetime
    polls_in_progress: int
    status: str = "InProgress"
    error: dict[str, str] | None = None  # set: the operation ends Failed with this error


@dataclass
class State:
    """Everything the sandbox knows, guarded by the Sandbox lock."""

    tenant_id: str = DEFAULT_TENANT
    subscription: str = "00000000-0000-0000-0000-000000000001"
    registries: dict[tuple[str, str, str], Registry] = field(default_factory=dict)
    vaults: dict[str, Vault] = field(default_factory=dict)
    role_definitions: dict[str, RoleDefinition] = field(default_factory=dict)
    role_assignments: dict[str, RoleAssignment] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    management_groups: dict[str, list[str]] = field(default_factory=dict)
    policies: list[dict[str, Any]] = field(default_factory=list)
    pending_principal_ids: list[str] = field(default_factory=list)  # handed to new identities
    # removed assignments that access evaluation still honours, until the time given
    revoked_assignments: list[tuple[RoleAssignment, datetime]] = field(default_factory=list)
    issued_credentials: dict[str, IssuedCredential] = field(default_factory=dict)  # ACR tokens
    pull_log: list[dict[str, Any]] = field(default_factory=list)  # ACR resource-log rows
    service_principals: dict[str, dict[str, Any]] = field(default_factory=dict)  # Graph, by id

    def registry(self, subscription: str, resource_group: str, name: str) -> Registry | None:
        """Look a registry up (ARM names are case-insensitive)."""
        return self.registries.get(registry_key(subscription, resource_group, name))

    def add_registry(self, registry: Registry) -> Registry:
        """Add or replace a registry."""
        key = registry_key(registry.subscription, registry.resource_group, registry.name)
        self.registries[key] = registry
        return registry

    def vault(self, name: str) -> Vault | None:
        """Look a vault up by name (vault names are globally unique)."""
        return self.vaults.get(name.lower())

    def add_vault(self, vault: Vault) -> Vault:
        """Add or replace a vault."""
        self.vaults[vault.name.lower()] = vault
        return vault


def registry_key(subscription: str, resource_group: str, name: str) -> tuple[str, str, str]:
    """The case-insensitive key of a registry."""
    return (subscription.lower(), resource_group.lower(), name.lower())
