"""Keep credential sets on the newest valid secret versions: apply rotation plans, and the
`sync` use case behind POST /api/credential-sets/{registry}/{name}/sync."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, SecretVersion
from shared.domain.plans import Action, ActionKind, Finding, Outcome, OutcomeStatus, Plan, Severity
from shared.domain.rotation import plan_rotation
from shared.domain.secrets import SecretRef
from shared.errors import ConcurrencyError, NotFoundError, PermanentError
from shared.services.context import Context, fan_out
from shared.services.leases import lease
from shared.services.outcomes import record_action
from shared.services.results import Reaction, ReactionStatus

__all__ = [
    "apply_rotation",
    "observe_versions",
    "record_findings",
    "sync_credential_set",
    "terminal_outcome",
]

log = logging.getLogger(__name__)


def observe_versions(
    ctx: Context, secrets: Sequence[SecretRef]
) -> tuple[dict[SecretRef, list[SecretVersion]], list[Finding]]:
    """Version metadata of each secret; a missing secret becomes a finding, not an error."""
    distinct = sorted({s.versionless() for s in secrets}, key=str)

    def read(secret: SecretRef) -> list[SecretVersion] | None:
        try:
            return ctx.secrets.list_versions(secret)
        except NotFoundError:
            return None

    versions: dict[SecretRef, list[SecretVersion]] = {}
    findings: list[Finding] = []
    for secret, items in zip(distinct, fan_out(read, distinct), strict=True):
        if items is None:
            findings.append(
                Finding(
                    kind="secret-missing",
                    severity=Severity.ERROR,
                    resource=str(secret),
                    message=f"{secret} does not exist (or has no versions)",
                    fix=f"create the secret in vault {secret.vault_name}, or point the credential set elsewhere",
                )
            )
        else:
            versions[secret] = items
    return versions, findings


def last_refreshes(
    ctx: Context, credential_sets: Sequence[CredentialSet]
) -> dict[ResourceId, datetime]:
    """When each credential set was last refreshed successfully (versionless references)."""
    found: dict[ResourceId, datetime] = {}
    for credential_set in credential_sets:
        if credential_set.username.is_versioned and credential_set.password.is_versioned:
            continue
        # an update re-sends the versionless identifiers too, so it counts as a refresh
        moments = [
            ctx.journal.last_success(str(credential_set.id), kind)
            for kind in (ActionKind.REFRESH_CREDENTIAL_SET, ActionKind.UPDATE_CREDENTIAL_SET)
        ]
        known = [m for m in moments if m is not None]
        if known:
            found[credential_set.id] = max(known)
    return found


def _apply_one(ctx: Context, action: Action, signal_id: str) -> Outcome:
    credential_set = ResourceId.parse(action.resource)
    before = {role: change["from"] for role, change in action.changes.items()}
    after = {role: change["to"] for role, change in action.changes.items()}
    try:
        with lease(ctx, action.resource):
            # compare-before-write: the plan was made from an earlier observation; if another
            # worker moved the set since, writing now would undo its change (ConcurrencyError is
            # transient: the signal is redelivered and re-planned from the new state)
            current = ctx.registry.get_credential_set(credential_set)
            seen = {"username": str(current.username), "password": str(current.password)}
            if seen != before:
                raise ConcurrencyError(
                    f"{credential_set} changed since it was observed; re-planning from current state"
                )
            ctx.registry.update_credential_set(
                credential_set,
                username=SecretRef.parse(after["username"]),
                password=SecretRef.parse(after["password"]),
            )
            verified = ctx.registry.get_credential_set(credential_set)
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error, before=before, after=after)
    health = verified.health
    reason = action.reason
    if not health.is_healthy:
        detail = ": ".join(p for p in (health.error_code, health.error_message) if p)
        reason += f"; health after the change: {health.status.value}" + (
            f" ({detail})" if detail else ""
        )
    return record_action(
        ctx,
        action,
        signal_id,
        reason=reason,
        before=before,
        after=after,
        health=health.status.value,
    )


def apply_rotation(ctx: Context, plan: Plan, *, signal_id: str) -> tuple[Outcome, ...]:
    """Carry out a rotation plan's actions (concurrently), read back health, record outcomes."""
    return tuple(fan_out(lambda action: _apply_one(ctx, action, signal_id), plan.actions))


def record_findings(ctx: Context, findings: Sequence[Finding], *, signal_id: str) -> None:
    """Write findings to the journal."""
    now = ctx.clock.now()
    for finding in findings:
        ctx.journal.record_finding(finding, signal_id=signal_id, at=now)


def terminal_outcome(
    ctx: Context, signal_id: str, resource: str, outcomes: Sequence[Outcome], *, nothing: str
) -> ReactionStatus:
    """Record the one outcome that closes a signal; returns the reaction status it stands for."""
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    if not outcomes:
        status, reaction, reason = OutcomeStatus.NO_CHANGE, ReactionStatus.NO_CHANGE, nothing
    elif failed:
        status, reaction = OutcomeStatus.FAILED, ReactionStatus.APPLIED
        reason = f"{len(failed)} of {len(outcomes)} changes failed"
    else:
        status, reaction, reason = (
            OutcomeStatus.SUCCEEDED,
            ReactionStatus.APPLIED,
            f"{len(outcomes)} change(s) applied",
        )
    ctx.journal.record_outcome(Outcome(signal_id, resource, status, reason, ctx.clock.now()))
    return reaction


def sync_credential_set(
    ctx: Context, registry_name: str, name: str, *, dry_run: bool = False
) -> Reaction:
    """Bring one credential set to the newest valid versions of its secrets (or just plan it)."""
    credential_set = ctx.managed_credential_set(registry_name, name)
    versions, missing = observe_versions(ctx, credential_set.secrets())
    plan = plan_rotation(
        versions=versions,
        credential_sets=[credential_set],
        now=ctx.clock.now(),
        last_refresh=last_refreshes(ctx, [credential_set]),
        scope=str(credential_set.id),
    )
    plan = Plan(plan.scope, plan.actions, (*missing, *plan.findings), plan.state_fingerprint)
    if dry_run:
        return Reaction(ReactionStatus.PLANNED, f"{len(plan.actions)} action(s) planned", plan)
    signal_id = f"sync-{uuid.uuid4()}"
    outcomes = apply_rotation(ctx, plan, signal_id=signal_id)
    record_findings(ctx, plan.findings, signal_id=signal_id)
    status = terminal_outcome(
        ctx,
        signal_id,
        str(credential_set.id),
        outcomes,
        nothing="already on the newest valid versions",
    )
    return Reaction(
        status,
        f"{len(outcomes)} change(s) applied" if outcomes else "already current",
        plan,
        outcomes,
    )
