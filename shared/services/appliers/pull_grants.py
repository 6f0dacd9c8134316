"""Applier for `grant-pull`: one role assignment at a registry letting a puller pull.

Only the two least roles that pull are ever assigned (AcrPull; Container Registry Repository
Reader, which in ABAC mode must carry a repository condition); anything else is refused before
any write, whoever planned it. The assignment is read back and must be the one asked for
(principal, role, scope, condition); it is then recorded pending verification until RBAC's
propagation window has passed (`shared/services/verification.py` re-reads it), since a pull only
works once Azure honours it.
"""

from __future__ import annotations

from shared.domain.actions import PullGrant
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, Outcome
from shared.domain.pullers import ACR_PULL, REPOSITORY_READER
from shared.domain.verification import ExpectedAssignment
from shared.errors import PermanentError, PolicyViolationError
from shared.services.appliers.grants import refuse_own_identity
from shared.services.context import Context
from shared.services.records import record_action, record_pending

__all__ = ["grant_pull"]


def grant_pull(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Assign the payload's pull role (and condition) to its identity at the registry."""
    grant = action.changes
    if not isinstance(grant, PullGrant):
        raise TypeError(f"{action.kind.value} needs PullGrant, not {grant!r}")
    try:
        registry = ResourceId.parse(action.resource)
        role = grant.role_definition_id.lower()
        if not registry.is_type("Microsoft.ContainerRegistry/registries"):
            raise PolicyViolationError(f"pull rights are granted at a registry, not {registry}")
        if role not in (ACR_PULL, REPOSITORY_READER) or (
            role == REPOSITORY_READER and not grant.condition
        ):
            raise PolicyViolationError(
                f"cachekeeper grants only AcrPull or a repository-conditioned Repository Reader, not {role}"
            )
        refuse_own_identity(ctx, grant.principal_id)
        assignment = ctx.access.grant(
            registry, principal_id=grant.principal_id, role_id=role, condition=grant.condition
        )
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    after = {"roleAssignment": assignment.id, "scope": str(assignment.scope), "role": role}
    wanted = ExpectedAssignment(
        assignment.id.lower(), str(registry), grant.principal_id.lower(), role, grant.condition
    )
    disagreement = wanted.disagreement(assignment)
    if disagreement is not None:
        reason = f"{action.reason}; the read-back disagrees: {disagreement}"
        return record_action(ctx, action, signal_id, failed=True, reason=reason, after=after)
    return record_pending(
        ctx, action, signal_id, credential_set=None, assignment=wanted, after=after,
        reason=f"{action.reason}; waiting for RBAC to apply role assignment {assignment.id}",
    )  # fmt: skip
