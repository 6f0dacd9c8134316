"""Plan how credential sets follow a rotated secret: pure, from observed state only.

Rules (the safety rules in docs/architecture.md):
- a versioned reference moves to the newest valid version (enabled, nbf <= now, exp > now), and
  only forward: never to a version created before the one it points at now, whatever the event
  said or in whatever order events arrived;
- a versionless reference is refreshed (the same identifiers re-sent) only when the credential set
  is Unhealthy or the secret has a valid version newer than the last successful refresh;
- username and password are decided independently; a credential set referencing the secret twice
  gets one update;
- a newest version that cannot be used (disabled, expired, not yet valid) is reported, not adopted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.domain.actions import CredentialSetSecrets
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet, HealthStatus, SecretVersion
from shared.domain.plans import Action, ActionKind, Finding, Plan, Severity, fingerprint
from shared.domain.secrets import SecretRef

__all__ = ["newest_valid", "plan_rotation"]

_EPOCH = datetime.min


def _created(version: SecretVersion) -> datetime:
    moment = version.created or version.updated
    return moment.replace(tzinfo=None) if moment else _EPOCH


def _order(version: SecretVersion) -> tuple[datetime, str]:
    return (_created(version), version.version)


def newest_valid(versions: Sequence[SecretVersion], now: datetime) -> SecretVersion | None:
    """The newest version usable at `now`, or None."""
    valid = [v for v in versions if v.is_valid_at(now)]
    return max(valid, key=_order) if valid else None


@dataclass(frozen=True, slots=True)
class _Decision:
    ref: SecretRef
    changed: bool
    note: str | None


def _decide_versioned(
    current: SecretRef, versions: Sequence[SecretVersion], best: SecretVersion | None
) -> _Decision:
    if best is None:
        return _Decision(current, False, "no valid version to move to")
    if best.ref == current:
        return _Decision(current, False, None)
    pinned = next((v for v in versions if v.ref == current), None)
    if pinned is not None and _order(pinned) > _order(best):
        # the pinned version is newer than every valid one: moving would be a downgrade
        return _Decision(
            current, False, f"pinned version {current.version} is newer than the newest valid one"
        )
    why = "no longer exists" if pinned is None else "is not the newest valid version"
    return _Decision(best.ref, True, f"{current.version} {why}; moving to {best.version}")


def _unusable_newer(
    versions: Sequence[SecretVersion], best: SecretVersion | None, now: datetime
) -> list[SecretVersion]:
    floor = _order(best) if best else (_EPOCH, "")
    return sorted((v for v in versions if _order(v) > floor and not v.is_valid_at(now)), key=_order)


def plan_rotation(
    *,
    versions: Mapping[SecretRef, Sequence[SecretVersion]],
    credential_sets: Sequence[CredentialSet],
    now: datetime,
    last_refresh: Mapping[ResourceId, datetime] | None = None,
    scope: str | None = None,
    refresh_when_unknown: bool = True,
) -> Plan:
    """Actions that bring every credential set referencing one of the observed secrets to its
    newest valid version; `versions` maps each observed secret (versionless) to its versions.
    With `refresh_when_unknown` (a rotation event says the secret changed), a versionless reference
    with no known last refresh is refreshed; the audit passes False, so it only refreshes what is
    Unhealthy or known to be older than the newest version."""
    observed = {secret.versionless(): list(items) for secret, items in versions.items()}
    best = {secret: newest_valid(items, now) for secret, items in observed.items()}
    findings: list[Finding] = []
    for secret, items in sorted(observed.items(), key=lambda pair: str(pair[0])):
        findings.extend(_secret_findings(secret, items, best[secret], now))
    actions: list[Action] = []
    refreshed = last_refresh or {}
    for credential_set in sorted(credential_sets, key=lambda c: str(c.id).lower()):
        action = _plan_one(
            credential_set, observed, best, refreshed.get(credential_set.id), refresh_when_unknown
        )
        if action is not None:
            actions.append(action)
    state = {
        "versions": sorted(
            (str(s), v.version, v.enabled, str(v.not_before), str(v.expires))
            for s, items in observed.items()
            for v in items
        ),
        "sets": sorted(
            (str(c.id).lower(), str(c.username), str(c.password), c.health.status.value)
            for c in credential_sets
        ),
    }
    return Plan(
        scope=scope or ",".join(sorted(str(s) for s in observed)),
        actions=tuple(actions),
        findings=tuple(findings),
        state_fingerprint=fingerprint(state),
    )


def _secret_findings(
    secret: SecretRef, versions: Sequence[SecretVersion], best: SecretVersion | None, now: datetime
) -> list[Finding]:
    findings = [
        Finding(
            kind="secret-version-not-adopted",
            severity=Severity.WARNING,
            resource=str(v.ref),
            message=f"version {v.version} of {secret} is {v.validity_problem(now)}; not adopted",
            fix="enable the version or correct its activation/expiry dates in Key Vault",
            evidence={"version": v.version, "problem": v.validity_problem(now)},
        )
        for v in _unusable_newer(versions, best, now)
    ]
    if best is None:
        findings.append(
            Finding(
                kind="secret-has-no-valid-version",
                severity=Severity.ERROR,
                resource=str(secret),
                message=f"{secret} has no enabled, currently valid version",
                fix="add a new version of the secret in Key Vault",
            )
        )
    return findings


def _plan_one(
    credential_set: CredentialSet,
    observed: Mapping[SecretRef, Sequence[SecretVersion]],
    best: Mapping[SecretRef, SecretVersion | None],
    last_refresh: datetime | None,
    refresh_when_unknown: bool,
) -> Action | None:
    refs = {"username": credential_set.username, "password": credential_set.password}
    decisions: dict[str, _Decision] = {}
    versionless: list[str] = []
    newest: list[SecretVersion] = []
    for role, ref in refs.items():
        secret = ref.versionless()
        if secret not in observed:
            continue
        if ref.is_versioned:
            decisions[role] = _decide_versioned(ref, observed[secret], best[secret])
        elif best[secret] is not None:
            versionless.append(role)
            newest.append(best[secret])  # type: ignore[arg-type]
    changed = {role: d for role, d in decisions.items() if d.changed}
    if changed:
        after = {
            role: decisions[role].ref if role in decisions else ref for role, ref in refs.items()
        }
        return Action(
            kind=ActionKind.UPDATE_CREDENTIAL_SET,
            resource=str(credential_set.id),
            reason="; ".join(f"{role}: {d.note}" for role, d in changed.items()),
            changes=CredentialSetSecrets(
                refs["username"], refs["password"], after["username"], after["password"]
            ),
        )
    if not versionless:
        return None
    unhealthy = credential_set.health.status is HealthStatus.UNHEALTHY
    latest = max(newest, key=_order)
    if last_refresh is None:
        newer = refresh_when_unknown
    else:
        newer = _created(latest) > last_refresh.replace(tzinfo=None)
    if not (unhealthy or newer):
        return None
    reason = (
        "credential set is Unhealthy"
        if unhealthy
        else f"version {latest.version} is newer than the last refresh"
    )
    return Action(
        kind=ActionKind.REFRESH_CREDENTIAL_SET,
        resource=str(credential_set.id),
        reason=f"{'/'.join(versionless)} versionless: {reason}",
        changes=CredentialSetSecrets.resend(credential_set.username, credential_set.password),
    )
