"""The ports: what the services need from the outside world, as Protocols.

Adapters implement them: `adapters/azure` over the official SDKs, `adapters/tables` over Azure Table
Storage, `adapters/memory` as in-memory fakes with the same rules for unit tests. Every method
raises our own errors (NotFoundError, ConflictError, ThrottledError, ...), never SDK exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.backlog_port import BudgetJournal, PendingJournal, PendingSignal
from shared.claim_port import Claim, ClaimStatus, Lease, LeaseJournal
from shared.declared_port import DeclaredSetStore
from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.log_routing import DiagnosticSetting
from shared.domain.models import (
    CacheRule,
    CredentialSet,
    RoleAssignment,
    RoleDefinition,
    SecretVersion,
    VaultAccess,
)
from shared.domain.plans import ActionKind, Finding, Outcome
from shared.domain.policies import Policy
from shared.domain.pull_policies import PullPolicy
from shared.domain.pullers import RegistryAuth, RegistryToken, ScopeMap
from shared.domain.refusals import RuleRefusal
from shared.domain.repositories import TargetPath
from shared.domain.secrets import SecretRef
from shared.domain.verification import PendingVerification
from shared.history_port import HistoryJournal
from shared.ports_events import EventOutbox
from shared.ports_reports import ReportStore

__all__ = [
    "Access",
    "Claim",
    "ClaimStatus",
    "Clock",
    "Journal",
    "Lease",
    "Monitor",
    "PendingSignal",
    "PolicyStore",
    "Registry",
    "ReportStore",
    "Secrets",
    "StoredPolicy",
]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class Registry(Protocol):
    """ACR credential sets and cache rules of the managed registries."""

    def list_credential_sets(self, registry: ResourceId) -> list[CredentialSet]:
        """Every credential set of the registry, with health as ACR reports it now."""
        ...

    def get_credential_set(self, credential_set: ResourceId) -> CredentialSet:
        """One credential set; NotFoundError when absent."""
        ...

    def create_credential_set(
        self,
        credential_set: ResourceId,
        *,
        login_server: str,
        username: SecretRef,
        password: SecretRef,
    ) -> CredentialSet:
        """Create a credential set with a system-assigned identity."""
        ...

    def update_credential_set(
        self,
        credential_set: ResourceId,
        *,
        username: SecretRef,
        password: SecretRef,
        fence: Callable[[], None] | None = None,
    ) -> CredentialSet:
        """Point the credential set at these secret URIs (PATCH of authCredentials only);
        `fence` runs right before each attempt is sent: when it raises, nothing is sent."""
        ...

    def delete_credential_set(self, credential_set: ResourceId) -> None:
        """Delete it; ConflictError while a cache rule still uses it."""
        ...

    def list_cache_rules(self, registry: ResourceId) -> list[CacheRule]:
        """Every cache rule of the registry."""
        ...

    def get_cache_rule(self, rule: ResourceId) -> CacheRule:
        """One cache rule; NotFoundError when absent."""
        ...

    def create_cache_rule(self, registry: ResourceId, spec: RuleSpec) -> CacheRule:
        """Create a cache rule; PolicyViolationError when ACR refuses it."""
        ...

    def update_cache_rule(
        self, rule: ResourceId, *, credential_set: ResourceId | None
    ) -> CacheRule:
        """Change the credential set of a rule (the only updatable field)."""
        ...

    def delete_cache_rule(self, rule: ResourceId) -> None:
        """Delete a cache rule."""
        ...

    def repository_exists(self, registry: ResourceId, repository: TargetPath) -> bool:
        """True when the repository already exists in the registry (ACR's data plane)."""
        ...

    def list_repositories(self, registry: ResourceId) -> list[TargetPath]:
        """Every repository in the registry (ACR's data-plane catalog), sorted."""
        ...

    def registry_auth(self, registry: ResourceId) -> RegistryAuth:
        """The registry's admin-user flag and role-assignment mode (`registries.get`)."""

    def list_tokens(self, registry: ResourceId) -> list[RegistryToken]:
        """The registry's repository-scoped tokens (`tokens.list`)."""

    def get_scope_map(self, scope_map: ResourceId) -> ScopeMap:
        """One scope map; NotFoundError when absent."""


class Monitor(Protocol):
    """Azure Monitor configuration of the managed resources (read only)."""

    def diagnostic_settings(self, resource: ResourceId) -> list[DiagnosticSetting]:
        """The resource's diagnostic settings (ARM `Microsoft.Insights/diagnosticSettings` at the
        resource's scope); NotFoundError when the resource does not exist, AccessDeniedError
        when the app may not read them."""
        ...


class Secrets(Protocol):
    """Key Vault secret metadata. There is deliberately no way to read a secret value."""

    def list_versions(self, secret: SecretRef) -> list[SecretVersion]:
        """Metadata of every version of the secret; NotFoundError when the secret does not exist."""
        ...


class Access(Protocol):
    """Who may read secrets: the vault's permission model, role assignments, role definitions."""

    def vault_access(self, vault: ResourceId) -> VaultAccess:
        """The vault's permission model and, for access-policy vaults, its policies."""
        ...

    def role_assignments(self, scope: ResourceId, principal_id: str) -> list[RoleAssignment]:
        """The principal's role assignments at, above and below `scope`."""
        ...

    def all_role_assignments(self, scope: ResourceId) -> list[RoleAssignment]:
        """Every principal's role assignments at, above and below `scope` (no filter)."""
        ...

    def role_definition(self, role_id: str, *, scope: ResourceId) -> RoleDefinition:
        """A role definition by GUID (built-in or custom visible at `scope`)."""
        ...

    def grant(
        self, scope: ResourceId, *, principal_id: str, role_id: str, condition: str | None = None
    ) -> RoleAssignment:
        """Assign a role to a service principal at `scope`, with an ABAC condition (version 2.0)
        when given; an existing identical grant is returned."""
        ...


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A policy row with the ETag it was read with (for optimistic concurrency)."""

    policy: Policy
    etag: str


class PolicyStore(DeclaredSetStore, Protocol):
    """The policy table (and its declared credential sets, `DeclaredSetStore`)."""

    def list_policies(self) -> list[StoredPolicy]:
        """Every row, in id order."""

    def get_policy(self, policy_id: str) -> StoredPolicy:
        """One row; NotFoundError when absent."""

    def put_policy(self, policy: Policy, *, if_match: str | None = None) -> StoredPolicy:
        """Insert or replace a row; with `if_match`, ConcurrencyError when the row changed since."""

    def delete_policy(self, policy_id: str, *, if_match: str | None = None) -> None:
        """Delete a row; NotFoundError when absent."""

    def replace_all(self, policies: Sequence[Policy]) -> None:
        """Make the table hold exactly these rows."""

    def list_pull_policies(self) -> list[PullPolicy]:
        """Every pull row (who may be given pull rights where), in id order."""

    def put_pull_policy(self, policy: PullPolicy) -> None:
        """Insert or replace a pull row."""

    def delete_pull_policy(self, policy_id: str) -> None:
        """Delete a pull row; NotFoundError when absent."""


class Journal(LeaseJournal, PendingJournal, BudgetJournal, EventOutbox, HistoryJournal, Protocol):
    """Outcomes, findings, idempotency records, leases (`LeaseJournal`), pending signals and
    budgets (`shared/backlog_port.py`), the outbox of events to publish (`EventOutbox`), history
    reads (`shared/history_port.py`)."""

    def record_outcome(self, outcome: Outcome) -> None:
        """Record an outcome once per `Outcome.identity()`: a repeat keeps the first one."""
        ...

    def record_finding(self, finding: Finding, *, signal_id: str, at: datetime) -> None:
        """Append a finding raised while handling a signal."""
        ...

    def outcomes(self, *, since: datetime | None = None, limit: int = 100) -> list[Outcome]:
        """Outcomes newest first."""
        ...

    def findings(self, *, since: datetime | None = None, limit: int = 100) -> list[Finding]:
        """Findings newest first."""
        ...

    def last_success(self, resource: str, action: ActionKind) -> datetime | None:
        """When `action` last succeeded on `resource` (e.g. the last credential-set refresh)."""
        ...

    def record_announcement(self, secret: SecretRef, *, at: datetime) -> None:
        """Remember that a SecretNewVersionCreated event named version `secret.version` of the
        secret at `at` (the event's time): how versions created in one second are ordered."""
        ...

    def announcements(self, secret: SecretRef) -> dict[str, datetime]:
        """Version id -> when an event announced it, for one secret (any version of `secret`)."""
        ...

    def claim(self, key: str, payload_hash: str, *, now: datetime, ttl: timedelta) -> Claim:
        """Atomically claim a signal for handling (see ClaimStatus). An attempt whose own write
        landed unanswered (its retry meets its own record) is NEW, never IN_PROGRESS."""
        ...

    def complete(self, claim: Claim, *, now: datetime, ttl: timedelta) -> None:
        """Mark a NEW claim's signal as handled; replays within `ttl` become duplicates.
        NotFoundError when the claim is gone, ConcurrencyError when another attempt holds it."""
        ...

    def release(self, claim: Claim) -> None:
        """Drop a NEW claim after a failure so a redelivery can handle the signal again; a claim
        that was completed or taken over since is left alone, and a missing one is fine."""
        ...

    def remember_refusal(self, refusal: RuleRefusal) -> None:
        """Keep ARM's refusal of a cache rule (one per rule: a newer one replaces it)."""
        ...

    def refusals(self, registry: str) -> list[RuleRefusal]:
        """The remembered refusals of rules in `registry` (its resource id)."""
        ...

    def schedule_verification(self, pending: PendingVerification) -> None:
        """Keep (insert or replace, by its key) a change's pending verification."""
        ...

    def pending_verifications(self, *, due_at: datetime | None = None) -> list[PendingVerification]:
        """Pending verifications, oldest applied first; with `due_at`, only those due by then."""
        ...

    def end_verification(self, key: str) -> None:
        """Drop a pending verification once it is concluded (a missing one is fine)."""
        ...
