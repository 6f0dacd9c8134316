"""What a puller verdict means for an operator and, within policy, what to repair. Pure.

A denied Entra identity is granted pull rights only in `fix` mode and only when a pull row of the
policy table names it: AcrPull at the registry, or in ABAC mode Container Registry Repository
Reader with a condition on the repository. The admin user and tokens are reported, never changed.
A row by service-principal name prefix needs what the directory says about the identity
(`DirectoryAnswer`); when the directory could not tell, the finding says so and nothing is granted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shared.domain.access import Verdict
from shared.domain.actions import PullGrant
from shared.domain.directory import DirectoryAnswer, ServicePrincipal
from shared.domain.plans import Action, ActionKind, Finding, Severity
from shared.domain.pull_policies import PullPolicy, pull_policy_for
from shared.domain.puller_access import PullVerdict
from shared.domain.pullers import (
    ACR_PULL,
    REPOSITORY_READER,
    PullerKind,
    RegistryAuth,
    abac_repository_condition,
)

__all__ = ["PULLER_CANNOT_PULL", "puller_finding", "puller_repair"]

PULLER_CANNOT_PULL = "puller-cannot-pull"


def puller_finding(verdict: PullVerdict, auth: RegistryAuth, *, note: str = "") -> Finding:
    """The finding for a verdict that does not allow the pull."""
    return Finding(
        PULLER_CANNOT_PULL,
        Severity.WARNING if verdict.verdict is Verdict.UNVERIFIABLE else Severity.ERROR,
        str(auth.registry),
        verdict.reason + (f"; {note}" if note else ""),
        fix=verdict.fix,
        evidence={
            "identity": verdict.puller.to_dict(),
            "repository": verdict.repository,
            "missing": verdict.missing,
            "scope": verdict.scope,
            "verdict": verdict.verdict.value,
            "roleAssignmentMode": (
                "AbacRepositoryPermissions"
                if auth.abac_repository_permissions
                else "LegacyRegistryPermissions"
            ),
        },
    )


def puller_repair(
    verdict: PullVerdict,
    auth: RegistryAuth,
    rows: Sequence[PullPolicy],
    *,
    fix: bool,
    directory: DirectoryAnswer | None = None,
) -> tuple[Finding, Action | None]:
    """The finding, and the grant `fix` mode makes when a pull row allows it (`directory`: the
    lookup made for rows by name prefix; None when none was made)."""
    if verdict.puller.kind is not PullerKind.ENTRA or verdict.verdict is not Verdict.DENIED:
        note = "" if verdict.puller.kind is PullerKind.ENTRA else "report only"
        return puller_finding(verdict, auth, note=note), None
    principal = verdict.puller.id
    known = directory.principal if directory is not None else None
    row = pull_policy_for(
        rows, principal_id=principal, principal=known, registry_name=auth.registry.name,
        repository=verdict.repository,
    )  # fmt: skip
    if row is None:
        note = (
            f"no pull row of the policy table names {principal} for {auth.registry.name}, "
            "so cachekeeper grants nothing"
        )
        if any(r.enabled and r.spn_prefix is not None for r in rows):
            why = (
                directory.why_no_prefix_matches(principal)
                if directory is not None
                else "cachekeeper did not look the principal up in the directory"
            )
            note += (
                f" (rows by servicePrincipalNamePrefix are not matched: {why}; "
                "name it by principalId)"
            )
        return _with_directory(puller_finding(verdict, auth, note=note), directory), None
    matched = f"pull row {row.id}" + _by_name(row, known)
    if not fix:
        note = f"{matched} allows granting it; report mode changes nothing"
        return _with_directory(puller_finding(verdict, auth, note=note), directory), None
    abac = auth.abac_repository_permissions
    grant = PullGrant(
        principal_id=principal,
        role_definition_id=REPOSITORY_READER if abac else ACR_PULL,
        repository=verdict.repository,
        policy=row.id,
        condition=abac_repository_condition(verdict.repository) if abac else None,
    )
    role = "Container Registry Repository Reader on " + verdict.repository if abac else "AcrPull"
    action = Action(
        ActionKind.GRANT_PULL,
        str(auth.registry),
        f"grant {role} to {principal} at {auth.registry.name} ({matched})",
        grant,
    )
    finding = puller_finding(verdict, auth, note=f"granting {role} per {matched}")
    return _with_directory(finding, directory), action


def _by_name(row: PullPolicy, principal: ServicePrincipal | None) -> str:
    if row.spn_prefix is None or principal is None:
        return ""
    name = principal.name_matching(row.spn_prefix)
    return f": its prefix {row.spn_prefix!r} begins the {principal.type} name {name!r}"


def _with_directory(finding: Finding, directory: DirectoryAnswer | None) -> Finding:
    """The finding, with what the directory said about the identity in its evidence."""
    if directory is None:
        return finding
    said: dict[str, object] = (
        directory.principal.to_dict()
        if directory.principal is not None
        else {"unknown": directory.unknown_because}
    )
    return replace(finding, evidence={**finding.evidence, "directory": said})
