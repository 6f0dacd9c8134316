"""The one rotation decision, for every caller (a Key Vault event, `sync`, the audit's plan):
observe each secret's versions and when each versionless credential set was last refreshed, then
plan with the pure planner (`shared/domain/rotation.py`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, SecretVersion
from shared.domain.plans import ActionKind, Finding, Plan, Severity
from shared.domain.rotation import plan_rotation
from shared.domain.secrets import SecretRef
from shared.errors import NotFoundError
from shared.services.context import Context, fan_out

__all__ = ["announced_versions", "last_refreshes", "observe_versions", "plan_rotations"]

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


def plan_rotations(
    ctx: Context,
    credential_sets: Sequence[CredentialSet],
    versions: Mapping[SecretRef, Sequence[SecretVersion]],
    missing: Sequence[Finding] = (),
    *,
    scope: str | None = None,
    refresh_when_unknown: bool = True,
) -> Plan:
    """What the credential sets need to follow their secrets' newest valid versions, given the
    versions observed (`missing`: findings for secrets that do not exist). An unknown last
    refresh refreshes a versionless set unless `refresh_when_unknown` is off (the audit: it runs
    every hour and must not refresh every set the journal has no record of)."""
    plan = plan_rotation(
        versions=versions,
        credential_sets=credential_sets,
        now=ctx.clock.now(),
        last_refresh=last_refreshes(ctx, credential_sets),
        scope=scope,
        refresh_when_unknown=refresh_when_unknown,
        announced=announced_versions(ctx, list(versions)),
        pin_disabled_latest=ctx.settings.pins_disabled_latest,
    )
    return Plan(plan.scope, plan.actions, (*missing, *plan.findings), plan.state_fingerprint)
