"""Applier for `grant-secret-read`: one role assignment at a secret's scope.

Azure RBAC can take minutes to apply an assignment, and only the credential set's health shows
that ACR's identity can read the secret: a grant is recorded pending verification, concluded by
the health of its credential set (`shared/services/verification.py`).
"""

from __future__ import annotations

from shared.domain.actions import SecretReadGrant
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, Outcome
from shared.errors import PermanentError, PolicyViolationError
from shared.services.context import Context
from shared.services.records import record_action, record_pending

__all__ = ["grant_secret_read", "refuse_own_identity"]


def refuse_own_identity(ctx: Context, principal_id: str) -> None:
    """PolicyViolationError when the grant would go to the app's own identity (APP_PRINCIPAL_ID):
    cachekeeper gives rights to credential sets and pullers, never to itself. The fix-mode ABAC
    condition in infra/ refuses the same in Azure; this refuses before any write."""
    own = ctx.settings.app_principal_id
    if own is not None and principal_id.strip().lower() == own.lower():
        raise PolicyViolationError(
            f"{principal_id} is cachekeeper's own identity: it never grants a role to itself"
        )


def grant_secret_read(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Assign the payload's role to its identity at the action's scope (an existing identical
    assignment counts as done)."""
    grant = action.changes
    if not isinstance(grant, SecretReadGrant):
        raise TypeError(f"{action.kind.value} needs SecretReadGrant, not {grant!r}")
    try:
        refuse_own_identity(ctx, grant.principal_id)
        assignment = ctx.access.grant(
            ResourceId.parse(action.resource),
            principal_id=grant.principal_id,
            role_id=grant.role_definition_id,
        )
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    after = {"roleAssignment": assignment.id, "scope": str(assignment.scope),
             "credentialSet": grant.credential_set}  # fmt: skip
    return record_pending(
        ctx, action, signal_id, credential_set=grant.credential_set, after=after,
        reason=f"{action.reason}; waiting for the health of {grant.credential_set}",
    )  # fmt: skip
