"""Why can't a credential set pull? A pure planner over what was observed about its secrets.

For each secret the credential set references: does it exist, is the version it reads enabled,
and can the credential set's identity read it. A versionless reference reads the *latest* version
(Key Vault's rule, `shared/domain/versions.py`): when that one is disabled Key Vault answers 403,
whatever older versions are enabled, which is critical. Key Vault does not enforce `nbf`/`exp`
on reads, so an expired or not-yet-valid version is a warning, not the reason pulls fail.
In `fix` mode the repairs are `Key Vault Secrets User` at the secret's own scope, for RBAC
vaults, for the credential set's own identity, followed by a refresh of the credential set; and,
with `pin_disabled_latest` (PIN_ON_DISABLED_LATEST), pinning a versionless reference whose
latest version is disabled to the newest valid version. Access-policy vaults are reported, never
edited; conditional or unverifiable access is reported.
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
from shared.domain.secrets import SecretRef
from shared.domain.versions import Announcements, latest, newest_usable

__all__ = ["SecretCheck", "plan_access_repair"]


@dataclass(frozen=True, slots=True)
class SecretCheck:
    """What was observed about one secret a credential set reads."""

    ref: SecretRef
    versions: Sequence[SecretVersion] | None  # None: the secret does not exist
    vault_id: ResourceId | None  # None: the vault is not on the allow-list
    rbac: bool | None = None
    access: AccessVerdict | None = None
    announced: Announcements | None = None  # the versions rotation events named (tie-breaker)

    @property
    def scope(self) -> ResourceId | None:
        return self.vault_id.child("secrets", self.ref.name) if self.vault_id else None


def _version_problem(check: SecretCheck, now: datetime) -> tuple[Severity, str] | None:
    if check.versions is None:
        return Severity.ERROR, "does not exist"
    if check.ref.is_versioned:
        read = next((v for v in check.versions if v.ref == check.ref), None)
        if read is None:
            return Severity.ERROR, f"has no version {check.ref.version}"
        which = f"version {check.ref.version}"
    else:
        choice = latest(check.versions, check.announced)
        if choice.version is None:
            return _unknown_latest(choice.tied)
        read = choice.version
        which = f"latest version {read.version} (what a versionless reference reads)"
    if not read.enabled:
        return Severity.CRITICAL if not check.ref.is_versioned else Severity.ERROR, (
            f"{which} is disabled: Key Vault answers 403 for it"
        )
    problem = read.validity_problem(now)
    if problem:
        return Severity.WARNING, (
            f"{which} is {problem}; Key Vault still serves it, but the upstream may reject it"
        )
    return None


def _unknown_latest(tied: Sequence[SecretVersion]) -> tuple[Severity, str] | None:
    if all(v.enabled for v in tied):
        return None  # whichever is the latest, Key Vault serves it
    names = ", ".join(v.version for v in tied)
    return Severity.ERROR, (
        f"has versions {names} created in the same second, some disabled, and no rotation "
        "event says which is the latest one a versionless reference reads"
    )


def _pin(check: SecretCheck, now: datetime) -> SecretRef | None:
    """The newest valid version to pin a versionless reference to when its latest is disabled."""
    if check.versions is None or check.ref.is_versioned:
        return None
    read = latest(check.versions, check.announced).version
    if read is None or read.enabled:
        return None
    best = newest_usable(check.versions, now, check.announced).version
    return best.ref if best is not None else None


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
    credential_set: CredentialSet,
    checks: Sequence[SecretCheck],
    *,
    now: datetime,
    fix: bool,
    pin_disabled_latest: bool = False,
) -> Plan:
    """Findings for everything that stops the credential set from authenticating; in fix mode,
    grants at secret scope plus a refresh for what a grant can repair, and (with
    `pin_disabled_latest`) a pin off a disabled latest version."""
    findings: list[Finding] = []
    actions: list[Action] = []
    pins: dict[SecretRef, SecretRef] = {}
    principal = credential_set.principal_id
    resource = str(credential_set.id)
    for check in checks:
        secret = str(check.ref.versionless())
        problem = _version_problem(check, now)
        pin = _pin(check, now) if fix and pin_disabled_latest else None
        if pin is not None:
            pins[check.ref] = pin
        if problem:
            findings.append(Finding("secret-unusable", problem[0], resource, f"{secret} {problem[1]}",
                                    f"add or enable a valid version of {check.ref.name} in vault {check.ref.vault_name}"
                                    + ("" if check.ref.is_versioned else " (or pin the reference: PIN_ON_DISABLED_LATEST)"),
                                    {"secret": str(check.ref), "pinTo": str(pin) if pin else None}))  # fmt: skip
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
    if pins:
        username = pins.get(credential_set.username, credential_set.username)
        password = pins.get(credential_set.password, credential_set.password)
        actions.append(
            Action(
                kind=ActionKind.UPDATE_CREDENTIAL_SET,
                resource=resource,
                reason="pin versionless references off their disabled latest version: "
                + ", ".join(f"{ref.name} -> {to.version}" for ref, to in pins.items()),
                changes=CredentialSetSecrets(
                    credential_set.username, credential_set.password, username, password
                ),
            )
        )
    elif actions or (fix and not findings and not credential_set.health.is_healthy):
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
