"""Why can't a credential set pull? A pure planner over what was observed about its secrets.

For each secret the credential set references: does it exist, is the referenced version (or the
newest one, for a versionless reference) enabled and valid, and can the credential set's identity
read it. In `fix` mode the only repair is `Key Vault Secrets User` at the secret's own scope, for
RBAC vaults, for the credential set's own identity, followed by a refresh of the credential set.
Access-policy vaults are reported, never edited; conditional or unverifiable access is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain.access import AccessVerdict, Verdict
from shared.domain.actions import CredentialSetSecrets, SecretReadGrant
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER, CredentialSet, SecretVersion
from shared.domain.plans import Action, ActionKind, Finding, Plan, Severity, fingerprint
from shared.domain.rotation import newest_valid
from shared.domain.secrets import SecretRef

__all__ = ["SecretCheck", "plan_access_repair"]


@dataclass(frozen=True, slots=True)
class SecretCheck:
    """What was observed about one secret a credential set reads."""

    ref: SecretRef
    versions: Sequence[SecretVersion] | None  # None: the secret does not exist
    vault_id: ResourceId | None  # None: the vault is not on the allow-list
    rbac: bool | None = None
    access: AccessVerdict | None = None

    @property
    def scope(self) -> ResourceId | None:
        return self.vault_id.child("secrets", self.ref.name) if self.vault_id else None


def _version_problem(check: SecretCheck, now: datetime) -> str | None:
    if check.versions is None:
        return "does not exist"
    if check.ref.is_versioned:
        pinned = next((v for v in check.versions if v.ref == check.ref), None)
        if pinned is None:
            return f"has no version {check.ref.version}"
        problem = pinned.validity_problem(now)
        return f"version {check.ref.version} is {problem}" if problem else None
    return None if newest_valid(check.versions, now) else "has no enabled, currently valid version"


def _az_fix(check: SecretCheck, principal: str) -> str:
    if check.vault_id is None or check.scope is None:
        return "add the vault to VAULT_ALLOWLIST so its access can be checked"
    if check.rbac:
        return (
            f"az role assignment create --assignee-object-id {principal} --assignee-principal-type "
            f'ServicePrincipal --role "Key Vault Secrets User" --scope {check.scope}'
        )
    return f"az keyvault set-policy --name {check.vault_id.name} --object-id {principal} --secret-permissions get"


def plan_access_repair(
    credential_set: CredentialSet, checks: Sequence[SecretCheck], *, now: datetime, fix: bool
) -> Plan:
    """Findings for everything that stops the credential set from authenticating; in fix mode,
    grants at secret scope plus a refresh for what a grant can repair."""
    findings: list[Finding] = []
    actions: list[Action] = []
    principal = credential_set.principal_id
    resource = str(credential_set.id)
    for check in checks:
        secret = str(check.ref.versionless())
        problem = _version_problem(check, now)
        if problem:
            findings.append(Finding("secret-unusable", Severity.ERROR, resource, f"{secret} {problem}",
                                    f"add or enable a valid version of {check.ref.name} in vault {check.ref.vault_name}",
                                    {"secret": str(check.ref)}))  # fmt: skip
        if check.vault_id is None:
            findings.append(Finding("vault-not-managed", Severity.WARNING, resource,
                                    f"vault {check.ref.vault_name} is not in VAULT_ALLOWLIST; access was not checked",
                                    "add the vault's resource id to VAULT_ALLOWLIST", {"secret": secret}))  # fmt: skip
            continue
        if principal is None:
            findings.append(Finding("no-identity", Severity.ERROR, resource,
                                    f"{credential_set.name} has no system-assigned identity to read {secret}",
                                    "recreate the credential set with a system-assigned identity"))  # fmt: skip
            continue
        verdict = check.access
        if verdict is None or verdict.allowed:
            continue
        repairable = verdict.verdict is Verdict.DENIED and bool(check.rbac)
        findings.append(
            Finding(
                kind="access-unverifiable"
                if verdict.verdict is Verdict.UNVERIFIABLE
                else "access-denied",
                severity=Severity.WARNING
                if verdict.verdict is Verdict.UNVERIFIABLE
                else Severity.ERROR,
                resource=resource,
                message=f"identity {principal} of {credential_set.name} cannot read {secret}: {verdict.reason}",
                fix=_az_fix(check, principal),
                evidence={
                    "secret": secret,
                    "verdict": verdict.verdict.value,
                    "repairable": repairable and fix,
                },
            )
        )
        if fix and repairable and check.scope is not None:
            actions.append(
                Action(
                    kind=ActionKind.GRANT_SECRET_READ,
                    resource=str(check.scope),
                    reason=f"grant Key Vault Secrets User on {secret} to {credential_set.name}'s identity",
                    changes=SecretReadGrant(principal, KEY_VAULT_SECRETS_USER, resource),
                )
            )
    if actions or (fix and not findings and not credential_set.health.is_healthy):
        actions.append(
            Action(
                kind=ActionKind.REFRESH_CREDENTIAL_SET,
                resource=resource,
                reason="re-send the secret identifiers so ACR re-checks the credentials",
                changes=CredentialSetSecrets.resend(
                    credential_set.username, credential_set.password
                ),
            )
        )
    state = {"set": [resource.lower(), str(credential_set.username), str(credential_set.password), principal],
             "checks": [[str(c.ref), c.versions is None, str(c.vault_id), c.rbac, c.access.verdict.value if c.access else None] for c in checks]}  # fmt: skip
    return Plan(resource, tuple(actions), tuple(findings), fingerprint(state))
