"""`POST /api/credential-sets/{registry}/{name}/sync`: move one credential set to the newest valid
secret versions now, through the one rotation decision (`shared/services/rotations.py`) that Key
Vault events and the audit's plan use, and the same appliers."""

from __future__ import annotations

import uuid

from shared.services.appliers import apply_actions
from shared.services.context import Context
from shared.services.records import record_findings, record_terminal
from shared.services.results import Reaction, ReactionStatus
from shared.services.rotations import observe_versions, plan_rotations

__all__ = ["sync_credential_set"]


def sync_credential_set(
    ctx: Context, registry_name: str, name: str, *, dry_run: bool = False
) -> Reaction:
    """Bring one credential set to the newest valid versions of its secrets (or just plan it)."""
    credential_set = ctx.managed_credential_set(registry_name, name)
    versions, missing = observe_versions(ctx, credential_set.secrets())
    plan = plan_rotations(ctx, [credential_set], versions, missing, scope=str(credential_set.id))
    if dry_run:
        return Reaction(ReactionStatus.PLANNED, f"{len(plan.actions)} action(s) planned", plan)
    signal_id = f"sync-{uuid.uuid4()}"
    outcomes = apply_actions(ctx, plan.actions, signal_id=signal_id)
    record_findings(ctx, plan.findings, signal_id=signal_id)
    status = record_terminal(
        ctx, signal_id, str(credential_set.id), outcomes,
        nothing="already on the newest valid versions",
    )  # fmt: skip
    return Reaction(
        status,
        f"{len(outcomes)} change(s) applied" if outcomes else "already current",
        plan,
        outcomes,
    )
