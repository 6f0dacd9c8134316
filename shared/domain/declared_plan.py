"""The declared-credential-set planner: what to change so a registry has the declared sets.

Pure: from one registry's observed rules and credential sets, the declarations, the policy table
and the secrets' version metadata, it plans

- `create-credential-set` for a declared set that is missing (in fix mode with the grants its new
  identity needs: Key Vault Secrets User at each secret's scope, given right after creation);
- `update-credential-set` when the declared secret URIs differ from the set's, never to an older
  version of the same secret than the set uses (that is a finding instead);
- `move-cache-rule` when the policy row that governs a rule names another credential set (declared
  or existing), or names none while the rule uses a set declared absent;
- `delete-credential-set` for a set declared absent that no cache rule uses (ACR refuses to
  delete a set a rule uses: checked here, before asking).

Credential sets nobody declared are reported and never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain.actions import (
    CredentialSetCreation,
    CredentialSetDeletion,
    CredentialSetSecrets,
    RuleCredentialSetMove,
)
from shared.domain.audit import governing_policy
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER, CacheRule, CredentialSet, SecretVersion
from shared.domain.plans import Action, ActionKind, Finding, Severity
from shared.domain.policies import PolicyIndex
from shared.domain.secrets import SecretRef

__all__ = ["DeclaredPlan", "plan_declared_sets"]


@dataclass(frozen=True, slots=True)
class DeclaredPlan:
    """The declared sets' actions and findings for one registry."""

    actions: tuple[Action, ...] = ()
    findings: tuple[Finding, ...] = ()


def plan_declared_sets(
    registry: ResourceId,
    declared: Sequence[DeclaredCredentialSet],
    *,
    sets: Sequence[CredentialSet],
    rules: Sequence[CacheRule],
    index: PolicyIndex,
    versions: Mapping[SecretRef, list[SecretVersion]],
    vaults: Mapping[str, ResourceId],
    fix: bool,
) -> DeclaredPlan:
    """Plan the registry's declared credential sets; `vaults` maps allow-listed vault names to
    their resource ids (the grants' scopes), `fix` is REMEDIATION_MODE=fix."""
    mine = {d.name: d for d in declared if d.applies_to(registry.name)}
    if not mine:
        return DeclaredPlan()
    existing = {c.name.lower(): c for c in sets}
    actions: list[Action] = []
    findings: list[Finding] = []
    for name, declaration in sorted(mine.items()):
        resource = registry.child("credentialSets", name)
        current = existing.get(name)
        if declaration.absent:
            if current is not None:
                _plan_delete(resource, current, rules, actions, findings)
        elif current is None:
            actions.append(_create(resource, declaration, vaults, fix=fix))
        else:
            _plan_update(
                resource,
                declaration,
                current,
                versions=versions,
                actions=actions,
                findings=findings,
            )
    for name, current in sorted(existing.items()):
        if name not in mine:
            findings.append(Finding("undeclared-credential-set", Severity.INFO, str(current.id),
                f"credential set {current.name} is not declared for {registry.name}; cachekeeper leaves it alone",
                f"declare it (PUT /api/credential-sets/declared/{current.name}) or delete it by hand"))  # fmt: skip
    actions += _moves(registry, mine, existing, rules, index)
    return DeclaredPlan(tuple(actions), tuple(findings))


def _create(
    resource: ResourceId,
    declaration: DeclaredCredentialSet,
    vaults: Mapping[str, ResourceId],
    *,
    fix: bool,
) -> Action:
    scopes: tuple[str, ...] = ()
    if fix:
        scopes = tuple(
            dict.fromkeys(
                str(vaults[ref.vault_name].child("secrets", ref.name))
                for ref in (declaration.username, declaration.password)
                if ref.vault_name in vaults
            )
        )
    grant = f", then grant its identity Key Vault Secrets User on {len(scopes)} secret(s)"
    return Action(
        ActionKind.CREATE_CREDENTIAL_SET,
        str(resource),
        f"credential set {declaration.name} is declared and missing: create it"
        + (grant if scopes else ""),
        CredentialSetCreation(
            declaration.login_server,
            declaration.username,
            declaration.password,
            scopes,
            KEY_VAULT_SECRETS_USER if scopes else "",
        ),
    )


def _plan_delete(
    resource: ResourceId,
    current: CredentialSet,
    rules: Sequence[CacheRule],
    actions: list[Action],
    findings: list[Finding],
) -> None:
    users = sorted(r.name for r in rules if r.credential_set_id == current.id)
    if users:
        findings.append(Finding("credential-set-in-use", Severity.WARNING, str(resource),
            f"credential set {current.name} is declared absent but cache rule(s) {', '.join(users)} use it: "
            "ACR refuses to delete it while they do",
            "point those rules elsewhere (their policy rows) or delete them; then apply again",
            {"rules": users}))  # fmt: skip
        return
    actions.append(Action(ActionKind.DELETE_CREDENTIAL_SET, str(resource),
        f"credential set {current.name} is declared absent and no cache rule uses it: delete it",
        CredentialSetDeletion(current.login_server, current.username, current.password)))  # fmt: skip


def _plan_update(
    resource: ResourceId,
    declaration: DeclaredCredentialSet,
    current: CredentialSet,
    *,
    versions: Mapping[SecretRef, list[SecretVersion]],
    actions: list[Action],
    findings: list[Finding],
) -> None:
    if current.login_server.lower().removeprefix("https://") != declaration.login_server:
        findings.append(Finding("credential-set-login-server-differs", Severity.WARNING, str(resource),
            f"credential set {current.name} authenticates to {current.login_server}, declared {declaration.login_server}; "
            "ACR cannot change a credential set's login server",
            "delete the credential set and let cachekeeper re-create it, or fix the declaration"))  # fmt: skip
    username = _wanted(resource, current.username, declaration.username, versions, findings)
    password = _wanted(resource, current.password, declaration.password, versions, findings)
    if (username, password) == (current.username, current.password):
        return
    moved = [r for r, (a, b) in {"username": (current.username, username),
             "password": (current.password, password)}.items() if a != b]  # fmt: skip
    actions.append(Action(ActionKind.UPDATE_CREDENTIAL_SET, str(resource),
        f"the declaration of {current.name} names other {' and '.join(moved)} secret URI(s)",
        CredentialSetSecrets(current.username, current.password, username, password)))  # fmt: skip


def _wanted(
    resource: ResourceId,
    current: SecretRef,
    declared: SecretRef,
    versions: Mapping[SecretRef, list[SecretVersion]],
    findings: list[Finding],
) -> SecretRef:
    """The declared reference, unless it pins an older version of the secret the set uses (or a
    version that does not exist): then the set keeps what it has."""
    if declared == current or declared.version is None or not declared.same_secret(current):
        return declared
    known = {v.version: v for v in versions.get(declared.versionless(), [])}
    pinned = known.get(declared.version)
    if pinned is None:
        findings.append(Finding("declared-version-missing", Severity.WARNING, str(resource),
            f"the declaration pins {declared}, which does not exist; the credential set keeps {current}",
            "fix the declaration's secret URI"))  # fmt: skip
        return current
    used = known.get(current.version) if current.version else _newest(known.values())
    if used is not None and pinned.created and used.created and pinned.created < used.created:
        findings.append(Finding("declared-version-older", Severity.WARNING, str(resource),
            f"the declaration pins {declared}, older than the version the credential set uses ({used.version}); "
            "cachekeeper never moves a credential set back",
            "declare the version in use, a newer one, or the versionless URI"))  # fmt: skip
        return current
    return declared


def _newest(versions: Iterable[SecretVersion]) -> SecretVersion | None:
    dated = [v for v in versions if v.created is not None]
    return max(dated, key=lambda v: v.created or datetime.min) if dated else None


def _moves(
    registry: ResourceId,
    declared: Mapping[str, DeclaredCredentialSet],
    existing: Mapping[str, CredentialSet],
    rules: Sequence[CacheRule],
    index: PolicyIndex,
) -> list[Action]:
    """Rules whose governing policy row names another credential set that exists or is declared
    present; and rules using a set declared absent whose row names none."""
    present = set(existing) | {n for n, d in declared.items() if not d.absent}
    actions: list[Action] = []
    for rule in rules:
        policy = governing_policy(rule, index, registry.name)
        if policy is None:
            continue
        used = rule.credential_set_id.name.lower() if rule.credential_set_id else None
        wanted = policy.credential_set.lower() if policy.credential_set else None
        if wanted is None:
            gone = used is not None and used in declared and declared[used].absent
            if not gone:
                continue
        elif wanted == used or wanted not in present:
            continue
        actions.append(Action(ActionKind.MOVE_CACHE_RULE, str(rule.id),
            f"policy {policy.id!r} prescribes " + (f"credential set {wanted}" if wanted else
            f"no credential set, and {used} is declared absent") + f" for rule {rule.name}",
            RuleCredentialSetMove(_id(registry, used), _id(registry, wanted), policy.id)))  # fmt: skip
    return actions


def _id(registry: ResourceId, name: str | None) -> str | None:
    return str(registry.child("credentialSets", name)) if name else None
