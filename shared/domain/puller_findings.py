"""What a puller verdict means for an operator and, within policy, what to repair. Pure.

A denied Entra identity is granted pull rights only in `fix` mode and only when a pull row of the
policy table names it: AcrPull at the registry, or in ABAC mode Container Registry Repository
Reader with a condition on the repository. The admin user and tokens are reported, never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.domain.access import Verdict
from shared.domain.actions import PullGrant
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
    spn: str | None = None,
) -> tuple[Finding, Action | None]:
    """The finding, and the grant `fix` mode makes when a pull row allows it."""
    if verdict.puller.kind is not PullerKind.ENTRA or verdict.verdict is not Verdict.DENIED:
        note = "" if verdict.puller.kind is PullerKind.ENTRA else "report only"
        return puller_finding(verdict, auth, note=note), None
    principal = verdict.puller.id
    row = pull_policy_for(
        rows, principal_id=principal, spn=spn, registry_name=auth.registry.name,
        repository=verdict.repository,
    )  # fmt: skip
    if row is None:
        note = (
            f"no pull row of the policy table names {principal} for {auth.registry.name}, "
            "so cachekeeper grants nothing"
        )
        if spn is None and any(r.enabled and r.spn_prefix is not None for r in rows):
            note += (
                " (rows by servicePrincipalNamePrefix are not matched: cachekeeper reads no "
                "directory to learn a principal's name; name it by principalId)"
            )
        return puller_finding(verdict, auth, note=note), None
    if not fix:
        note = f"pull row {row.id} allows granting it; report mode changes nothing"
        return puller_finding(verdict, auth, note=note), None
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
        f"grant {role} to {principal} at {auth.registry.name} (pull row {row.id})",
        grant,
    )
    return puller_finding(verdict, auth, note=f"granting {role} per pull row {row.id}"), action
