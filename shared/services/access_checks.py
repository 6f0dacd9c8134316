"""Re-check that credential-set identities can read their secrets (after access-policy changes).

Report only: findings carry the exact `az` command a person would run. Granting access (policy
mode `fix`) belongs to the pull-failure remediation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar, cast

from shared.domain.access import AccessVerdict, evaluate_secret_read
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, RoleAssignment, RoleDefinition, VaultAccess
from shared.domain.plans import Finding, Severity
from shared.domain.secrets import SecretRef
from shared.services.context import Context, fan_out
from shared.services.records import record_findings, record_terminal
from shared.services.results import Reaction, ReactionStatus
from shared.signals.keyvault import KeyVaultSignal

__all__ = ["RoleAssignmentLists", "check_secret_access", "recheck_vault_access"]

_MANAGEMENT_GROUP = "Microsoft.Management/managementGroups"
_T = TypeVar("_T")


class RoleAssignmentLists:
    """Role-assignment lists, each sent once and shared by every check that needs it.

    `principalId eq '<id>'` at the vault's scope returns the principal's assignments at, above and
    below the vault, so one list answers for every secret of that vault; each check keeps the
    assignments whose scope contains its secret.

    A batch of checks (an audit, a vault re-check) passes `whole_vault=True`: one unfiltered list
    at the vault's scope returns every principal's assignments at, above and below it, and answers
    every identity's checks in that vault. A batch of 1,000 credential sets reading one vault costs
    that list's pages instead of 1,000 lists. A single diagnosis lists its identity directly.

    Concurrent checks wait for the list in flight instead of sending their own. Errors are not
    cached: the next caller lists again."""

    def __init__(self, ctx: Context, *, whole_vault: bool = False) -> None:
        self._ctx = ctx
        self.whole_vault = whole_vault
        self._lock = threading.Lock()
        self._lists: dict[tuple[ResourceId, str | None], Future[Any]] = {}

    def at_vault(self, vault_id: ResourceId, principal_id: str) -> list[RoleAssignment]:
        """The principal's assignments at, above and below the vault: out of the vault's one
        list of everyone's (`whole_vault`), or one list per principal and vault."""
        if self.whole_vault:
            return self._everyone(vault_id).get(principal_id.lower(), [])
        return self._shared(
            vault_id,
            principal_id.lower(),
            lambda: self._ctx.access.role_assignments(vault_id, principal_id),
        )

    def load_vault(self, vault_id: ResourceId) -> None:
        """Send the vault's one list of everyone's assignments now (`whole_vault` batches), so the
        checks that follow answer from it."""
        if self.whole_vault:
            self._everyone(vault_id)

    def everyone(self, vault_id: ResourceId) -> list[RoleAssignment]:
        """Every principal's assignments at, above and below the vault (`whole_vault` only: the
        list `load_vault` sent; empty otherwise)."""
        if not self.whole_vault:
            return []
        return [a for found in self._everyone(vault_id).values() for a in found]

    def _everyone(self, vault_id: ResourceId) -> dict[str, list[RoleAssignment]]:
        return self._shared(vault_id, None, lambda: _by_principal(vault_id, self._ctx))

    def _shared(self, vault_id: ResourceId, principal: str | None, load: Callable[[], _T]) -> _T:
        key = (vault_id, principal)
        with self._lock:
            pending = self._lists.get(key)
            owner = pending is None
            if pending is None:
                pending = self._lists[key] = Future()
        if not owner:
            return cast("_T", pending.result())
        try:
            found = load()
        except BaseException as error:
            with self._lock:
                del self._lists[key]
            pending.set_exception(error)
            raise
        pending.set_result(found)
        return found


def _by_principal(vault_id: ResourceId, ctx: Context) -> dict[str, list[RoleAssignment]]:
    found: dict[str, list[RoleAssignment]] = {}
    for assignment in ctx.access.all_role_assignments(vault_id):
        found.setdefault(assignment.principal_id.lower(), []).append(assignment)
    return found


def _applies_to(assignment: RoleAssignment, principal: str, scope: ResourceId) -> bool:
    """The principal's assignment at the secret or above it (as evaluate_secret_read judges)."""
    if assignment.principal_id.lower() != principal.lower():
        return False
    return assignment.scope.is_type(_MANAGEMENT_GROUP) or assignment.scope.contains(scope)


def check_secret_access(
    ctx: Context,
    credential_set: CredentialSet,
    secret: SecretRef,
    vault_id: ResourceId,
    vault: VaultAccess,
    *,
    lists: RoleAssignmentLists | None = None,
) -> AccessVerdict:
    """Whether the credential set's identity can get `secret`. RBAC vaults: the identity's
    assignments are listed once per vault (through `lists` when given, shared with other checks)."""
    scope = vault_id.child("secrets", secret.name)
    principal = credential_set.principal_id or ""
    if not vault.rbac:
        return evaluate_secret_read(principal_id=principal, secret_scope=scope, vault=vault)
    listed = (lists or RoleAssignmentLists(ctx)).at_vault(vault_id, principal)
    assignments = [a for a in listed if _applies_to(a, principal, scope)]
    roles: dict[str, RoleDefinition] = {}
    for assignment in assignments:
        if assignment.role_definition_id not in roles:
            roles[assignment.role_definition_id] = ctx.access.role_definition(
                assignment.role_definition_id, scope=scope
            )
    return evaluate_secret_read(
        principal_id=principal,
        secret_scope=scope,
        vault=vault,
        assignments=assignments,
        roles=roles,
    )


def _fix(vault: VaultAccess, principal: str, scope: ResourceId) -> str:
    if vault.rbac:
        return (
            f"az role assignment create --assignee-object-id {principal} --assignee-principal-type ServicePrincipal "
            f'--role "Key Vault Secrets User" --scope {scope}'
        )
    return f"az keyvault set-policy --name {vault.vault_id.name} --object-id {principal} --secret-permissions get"


def recheck_vault_access(ctx: Context, signal: KeyVaultSignal, signal_id: str) -> Reaction:
    """For every managed credential set reading from the event's vault, can its identity still read?"""
    assert signal.vault is not None  # checked by the caller's scope rules
    vault_id = signal.vault
    vault = ctx.access.vault_access(vault_id)
    pairs = [
        (c, ref)
        for c in ctx.managed_credential_sets()
        for ref in c.secrets()
        if ref.vault_name == vault_id.name.lower()
    ]
    lists = RoleAssignmentLists(ctx, whole_vault=True)  # a batch: one list serves many
    verdicts = fan_out(
        lambda pair: check_secret_access(ctx, pair[0], pair[1], vault_id, vault, lists=lists),
        pairs,
    )
    findings = [
        Finding(
            kind="credential-set-cannot-read-secret",
            severity=Severity.ERROR if verdict.verdict.value == "denied" else Severity.WARNING,
            resource=str(credential_set.id),
            message=f"identity {credential_set.principal_id} of {credential_set.name} cannot read {ref.versionless()}: {verdict.reason}",
            fix=_fix(
                vault,
                credential_set.principal_id or "<principal>",
                vault_id.child("secrets", ref.name),
            ),
            evidence={
                "verdict": verdict.verdict.value,
                "secret": str(ref.versionless()),
                "via": verdict.via,
            },
        )
        for (credential_set, ref), verdict in zip(pairs, verdicts, strict=True)
        if not verdict.allowed
    ]
    record_findings(ctx, findings, signal_id=signal_id)
    record_terminal(
        ctx,
        signal_id,
        str(vault_id),
        (),
        nothing=f"checked {len(pairs)} secret reference(s); {len(findings)} finding(s)",
    )
    return Reaction(
        ReactionStatus.REPORTED,
        f"checked {len(pairs)} secret reference(s); {len(findings)} cannot be read",
    )
