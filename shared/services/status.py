"""What a registry looks like now: its cache rules, credential sets with health and the secrets
they read (version in use, expiry), the changes still pending verification, and the last things
cachekeeper did there (the journal).

With the declared credential sets for the registry, each against what exists (`declaredCredentialSets`).

Read-only; the view behind `GET /api/registries/{registry}/status`, the dashboard and
`cachekeeper status`. Never reads a secret value: only version metadata.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, SecretVersion
from shared.domain.rotation import newest_valid
from shared.domain.secrets import SecretRef
from shared.domain.verification import PendingVerification
from shared.services.context import Context, fan_out
from shared.services.rotations import observe_versions

__all__ = ["registry_status", "secret_state"]

_JOURNAL_WINDOW = 500  # outcomes read to find this registry's latest ones


def secret_state(
    ref: SecretRef, versions: Sequence[SecretVersion] | None, *, now: datetime, horizon: timedelta
) -> dict[str, Any]:
    """The version a reference uses now (pinned, or the newest valid one) and its expiry."""
    found = versions or []
    version = (
        next((v for v in found if v.ref == ref), None)
        if ref.is_versioned
        else newest_valid(found, now)
    )
    state = "ok"
    if versions is None:
        state = "missing"
    elif version is None:
        state = "version-missing" if ref.is_versioned else "no-valid-version"
    elif version.validity_problem(now):
        state = "expired" if version.expires and version.expires <= now else "unusable"
    elif version.expires is not None and version.expires <= now + horizon:
        state = "expiring"
    newest = newest_valid(found, now)
    return {
        "uri": str(ref),
        "vault": ref.vault_name,
        "name": ref.name,
        "pinned": ref.is_versioned,
        "versionInUse": version.version if version else None,
        "newestValidVersion": newest.version if newest else None,
        "expires": version.expires.isoformat() if version and version.expires else None,
        "daysLeft": (
            round((version.expires - now).total_seconds() / 86400, 1)
            if version and version.expires
            else None
        ),
        "state": state,
        # a pin that is not on the newest valid version: a rotation cachekeeper has not applied
        "behind": bool(ref.is_versioned and newest and version and newest.ref != version.ref),
    }


def _credential_set(
    credential_set: CredentialSet,
    rules: Sequence[CacheRule],
    versions: Mapping[SecretRef, Sequence[SecretVersion]],
    *,
    now: datetime,
    horizon: timedelta,
    pending: Sequence[PendingVerification],
) -> dict[str, Any]:
    health = credential_set.health
    mine = str(credential_set.id).lower()
    return {
        "name": credential_set.name,
        "id": str(credential_set.id),
        "loginServer": credential_set.login_server,
        "health": {
            "status": health.status.value,
            "errorCode": health.error_code,
            "errorMessage": health.error_message,
        },
        "principalId": credential_set.principal_id,
        # changes applied to it whose read-back has not confirmed them yet
        "pendingVerification": sum(1 for p in pending if (p.credential_set or "").lower() == mine),
        "usedBy": sorted(r.name for r in rules if r.credential_set_id == credential_set.id),
        "secrets": {
            role: secret_state(ref, versions.get(ref.versionless()), now=now, horizon=horizon)
            for role, ref in (
                ("username", credential_set.username),
                ("password", credential_set.password),
            )
        },
    }


def _declared(
    ctx: Context, registry: ResourceId, sets: Sequence[CredentialSet]
) -> list[dict[str, Any]]:
    """The declarations for this registry against what exists: `present`, `missing`,
    `differs` (other secret URIs or login server), `to-delete` (declared absent, still there) or
    `absent`; credential sets nobody declared are listed as `undeclared` when any declaration
    is for this registry."""
    actual = {c.name.lower(): c for c in sets}
    rows: list[dict[str, Any]] = []
    for stored in ctx.policies.list_declared_sets():
        declared = stored.declaration
        if not declared.applies_to(registry.name):
            continue
        current = actual.get(declared.name)
        if declared.absent:
            state = "to-delete" if current else "absent"
        elif current is None:
            state = "missing"
        else:
            same = (current.username, current.password) == (declared.username, declared.password)
            state = (
                "present" if same and current.login_server == declared.login_server else "differs"
            )
        rows.append({"name": declared.name, "state": state, "declaration": declared.to_dict()})
    if rows:
        named = {r["name"] for r in rows}
        rows += [{"name": n, "state": "undeclared", "declaration": None}
                 for n in sorted(actual) if n not in named]  # fmt: skip
    return rows


def _rule(rule: CacheRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "source": str(rule.source),
        "target": str(rule.target),
        "credentialSet": rule.credential_set_id.name if rule.credential_set_id else None,
        "wildcard": rule.is_wildcard,
        "provisioningState": rule.provisioning_state,
    }


def _about(resource_id: str, registry: ResourceId) -> bool:
    resource = resource_id.lower()
    name = registry.name.lower()
    return resource.startswith((str(registry).lower(), f"{name}/")) or (
        f"/registries/{name}/" in resource
    )


def registry_status(ctx: Context, registry_name: str, *, last_actions: int = 20) -> dict[str, Any]:
    """Rules, credential sets with health and secret expiry, and the latest journal outcomes."""
    registry = ctx.managed_registry(registry_name)
    rules, sets = fan_out(
        lambda read: read(registry),
        [ctx.registry.list_cache_rules, ctx.registry.list_credential_sets],
    )
    credential_sets: list[CredentialSet] = sets  # type: ignore[assignment]
    cache_rules: list[CacheRule] = rules  # type: ignore[assignment]
    versions, _ = observe_versions(ctx, [s for c in credential_sets for s in c.secrets()])
    now = ctx.clock.now()
    horizon = timedelta(days=ctx.settings.expiry_horizon_days)
    outcomes = [
        o for o in ctx.journal.outcomes(limit=_JOURNAL_WINDOW) if _about(o.resource, registry)
    ]
    pending = [
        p
        for p in ctx.journal.pending_verifications()
        if _about(p.credential_set or p.resource, registry)
    ]
    return {
        "registry": registry.name,
        "id": str(registry),
        "observedAt": now.isoformat(),
        "expiryHorizonDays": ctx.settings.expiry_horizon_days,
        "rules": [_rule(r) for r in sorted(cache_rules, key=lambda r: r.name.lower())],
        "ruleCount": len(cache_rules),
        "credentialSets": [
            _credential_set(c, cache_rules, versions, now=now, horizon=horizon, pending=pending)
            for c in sorted(credential_sets, key=lambda c: c.name.lower())
        ],
        "declaredCredentialSets": _declared(ctx, registry, credential_sets),
        "pendingVerifications": [p.to_dict() for p in pending],
        "lastActions": [o.to_dict() for o in outcomes[:last_actions]],
    }
