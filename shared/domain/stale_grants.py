"""Stale grants: read rights cachekeeper gave a credential set's identity that no credential set
has any more (the set was deleted, or deleted and re-created with a new system-assigned
identity). ARM keeps a deleted principal's role assignments (the portal shows them as "Unknown"
identities), so they are reported for a person to remove; cachekeeper never deletes a grant.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.domain.models import RoleAssignment
from shared.domain.plans import Finding, Severity

__all__ = ["assignment_key", "stale_grant_findings"]


def assignment_key(assignment_id: str) -> str:
    """An assignment's name (its GUID), however its id was written."""
    return assignment_id.rstrip("/").rsplit("/", 1)[-1].lower()


def stale_grant_findings(
    assignments: Iterable[RoleAssignment],
    *,
    granted: Mapping[str, str],
    live_principals: Iterable[str],
) -> list[Finding]:
    """One finding per assignment cachekeeper made (`granted`: `assignment_key` -> the credential
    set it was for) whose principal is no current credential set's identity."""
    live = {p.lower() for p in live_principals}
    findings: list[Finding] = []
    for assignment in sorted(assignments, key=lambda a: a.id.lower()):
        credential_set = granted.get(assignment_key(assignment.id))
        if credential_set is None or assignment.principal_id.lower() in live:
            continue
        findings.append(Finding("stale-grant", Severity.WARNING, assignment.id,
            f"role assignment at {assignment.scope} was granted to {credential_set}'s identity "
            f"{assignment.principal_id}, which no credential set has any more (deleted or re-created)",
            f"az role assignment delete --ids {assignment.id}",
            {"principalId": assignment.principal_id, "credentialSet": credential_set,
             "scope": str(assignment.scope)}))  # fmt: skip
    return findings
