"""Keep credential sets on the newest valid secret versions: what the rotation planner observes
(secret versions, last refreshes), and the `sync` use case behind
POST /api/credential-sets/{registry}/{name}/sync."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, SecretVersion
from shared.domain.plans import ActionKind, Finding, Plan, Severity
from shared.domain.rotation import plan_rotation
from shared.domain.secrets import SecretRef
from shared.errors import NotFoundError
from shared.services.appliers import apply_actions
from shared.services.context import Context, fan_out
from shared.services.records import record_findings, record_terminal
from shared.services.results import Reaction, ReactionStatus

__all__ = ["announced_versions", "last_refreshes", "observe_versions", "sync_credential_set"]

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


def announced_versions(
    ctx: Context, secrets: Sequence[SecretRef]
) -> dict[SecretRef, dict[str, datetime]]:
    """For each secret (versionless), the versions its rotation events named and when: what
    orders versions created in the same second (`shared/domain/versions.py`)."""
    distinct = sorted({s.versionless() for s in secrets}, key=str)
    found = fan_out(ctx.journal.announcements, distinct)
    return {secret: told for secret, told in zip(distinct, found, strict=True) if told}


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
        announced=announced_versions(ctx, credential_set.secrets()),
        pin_disabled_latest=ctx.settings.pins_disabled_latest,
    )
    plan = Plan(plan.scope, plan.actions, (*missing, *plan.findings), plan.state_fingerprint)
    if dry_run:
        return Reaction(ReactionStatus.PLANNED, f"{len(plan.actions)} action(s) planned", plan)
    signal_id = f"sync-{uuid.uuid4()}"
    outcomes = apply_actions(ctx, plan.actions, signal_id=signal_id)
    record_findings(ctx, plan.findings, signal_id=signal_id)
    status = record_terminal(
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
