"""Applier for `grant-secret-read`: one role assignment at a secret's scope."""

from __future__ import annotations

from shared.domain.actions import SecretReadGrant
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, Outcome
from shared.errors import PermanentError
from shared.services.context import Context
from shared.services.records import record_action

__all__ = ["grant_secret_read"]


def grant_secret_read(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Assign the payload's role to its identity at the action's scope (an existing identical
    assignment counts as done)."""
    grant = action.changes
    if not isinstance(grant, SecretReadGrant):
        raise TypeError(f"{action.kind.value} needs SecretReadGrant, not {grant!r}")
    try:
        assignment = ctx.access.grant(
            ResourceId.parse(action.resource),
            principal_id=grant.principal_id,
            role_id=grant.role_definition_id,
        )
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    after = {"roleAssignment": assignment.id, "scope": str(assignment.scope)}
    return record_action(ctx, action, signal_id, after=after)
