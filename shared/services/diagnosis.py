"""Diagnose a credential set's access to its secrets, and repair it where policy allows.

Repairs are applied by `shared.services.appliers`. The same code serves pull failures, `GET /api/credential-sets/{registry}/{name}/access` (plan
only) and the audit. Observation: the credential set, its secrets' versions, each vault's
permission model, and (RBAC vaults) the identity's role assignments with their role definitions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from shared.domain.diagnosis import SecretCheck, plan_access_repair
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, SecretVersion, VaultAccess
from shared.domain.plans import Plan
from shared.domain.secrets import SecretRef
from shared.services.access_checks import RoleAssignmentLists, check_secret_access
from shared.services.context import Context, fan_out
from shared.services.rotations import announced_versions, observe_versions

__all__ = ["diagnose_credential_set", "vault_id_for"]

log = logging.getLogger(__name__)


def vault_id_for(ctx: Context, secret: SecretRef) -> ResourceId | None:
    """The allow-listed vault resource id holding `secret`, or None when it is not managed."""
    for vault in ctx.settings.vault_allowlist:
        if vault.name.lower() == secret.vault_name:
            return vault
    return None


def diagnose_credential_set(
    ctx: Context,
    credential_set: CredentialSet,
    *,
    fix: bool,
    versions: Mapping[SecretRef, Sequence[SecretVersion]] | None = None,
    vaults: Mapping[ResourceId, VaultAccess] | None = None,
    lists: RoleAssignmentLists | None = None,
    announced: Mapping[SecretRef, Mapping[str, datetime]] | None = None,
) -> Plan:
    """Observe everything the credential set depends on and plan findings (and, with `fix`,
    repairs). `versions` and `vaults` may be given when the caller already read them, and `lists`
    shares role-assignment lists between diagnoses (audit); `announced` (what
    `announced_versions` answers) spares the journal reads when the caller has it. The identity's
    assignments are listed once per vault: both secrets of a vault are answered by the same
    list."""
    secrets = list(credential_set.secrets())
    lists = lists or RoleAssignmentLists(ctx)
    if versions is None:
        versions, _ = observe_versions(ctx, secrets)
    if announced is None:
        announced = announced_versions(ctx, secrets)
    vault_ids = {s.vault_name: vault_id_for(ctx, s) for s in secrets}
    managed = sorted({v for v in vault_ids.values() if v is not None}, key=str)
    models: dict[ResourceId, VaultAccess] = dict(vaults or {})
    unknown = [v for v in managed if v not in models]
    models.update(zip(unknown, fan_out(ctx.access.vault_access, unknown), strict=True))

    def check(secret: SecretRef) -> SecretCheck:
        vault_id = vault_ids[secret.vault_name]
        found = versions.get(secret.versionless())
        told = announced.get(secret.versionless())
        if vault_id is None:
            return SecretCheck(secret, found, None, announced=told)
        model = models[vault_id]
        verdict = None
        if credential_set.principal_id:
            verdict = check_secret_access(ctx, credential_set, secret, vault_id, model, lists=lists)
        return SecretCheck(secret, found, vault_id, model.rbac, verdict, told)

    # vaults concurrently; a vault's secrets one after the other, since they share one list
    per_vault: dict[str, list[int]] = {}
    for index, secret in enumerate(secrets):
        per_vault.setdefault(secret.vault_name, []).append(index)
    groups = list(per_vault.values())
    done = fan_out(lambda group: [(i, check(secrets[i])) for i in group], groups)
    checks = [c for _, c in sorted((pair for group in done for pair in group), key=lambda p: p[0])]
    return plan_access_repair(
        credential_set,
        checks,
        now=ctx.clock.now(),
        fix=fix,
        pin_disabled_latest=ctx.settings.pins_disabled_latest,
    )
