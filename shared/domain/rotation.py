"""Plan how credential sets follow a rotated secret: pure, from observed state only.

Rules (the safety rules in docs/architecture.md; version order and validity in
`shared/domain/versions.py`):
- a versioned reference moves to the newest valid version (enabled, nbf <= now, exp > now: the
  product's rule for choosing), and only forward: never to a version created before the one it
  points at now, whatever the event said or in whatever order events arrived;
- versions created in the same second are ordered by the rotation events that announced them;
  when the order cannot be known the planner reports it and moves nothing;
- a versionless reference reads the latest version (Key Vault's rule): when that version is
  disabled, Key Vault answers 403 and a refresh cannot help, so it is reported as critical and,
  with `pin_disabled_latest`, the reference is pinned to the newest valid version;
- otherwise a versionless reference is refreshed (the same identifiers re-sent) only when that
  can change something: the credential set is Unhealthy for a reason other than denied access
  (a refresh grants nothing), or the secret has a valid version newer than the last successful
  refresh;
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
from shared.domain.models import CredentialHealth, CredentialSet, HealthStatus, SecretVersion
from shared.domain.plans import Action, ActionKind, Finding, Plan, fingerprint
from shared.domain.rotation_findings import disabled_latest, secret_findings
from shared.domain.secrets import SecretRef
from shared.domain.versions import (
    Announcements,
    ObservedSecret,
    is_newer,
    latest,
    newest_usable,
)

__all__ = ["newest_valid", "plan_rotation", "refresh_can_help"]

_EPOCH = datetime.min
_NO_REFRESH_CODES = frozenset({"accessdenied"})
"""credentialHealth codes a refresh cannot cure (ACR publishes no catalogue: the sandbox's)."""


def _created(version: SecretVersion) -> datetime:
    moment = version.created or version.updated
    return moment.replace(tzinfo=None) if moment else _EPOCH


def _order(version: SecretVersion) -> tuple[datetime, str]:
    return (_created(version), version.version)


def newest_valid(versions: Sequence[SecretVersion], now: datetime) -> SecretVersion | None:
    """The newest version usable at `now`, or None (for display: ties fall back to the id)."""
    valid = [v for v in versions if v.is_valid_at(now)]
    return max(valid, key=_order) if valid else None


def refresh_can_help(health: CredentialHealth) -> bool:
    """False when the credential set is Unhealthy because its identity is denied access."""
    return (health.error_code or "").lower() not in _NO_REFRESH_CODES


@dataclass(frozen=True, slots=True)
class _Decision:
    ref: SecretRef
    changed: bool
    note: str | None


def _decide_versioned(current: SecretRef, secret: ObservedSecret) -> _Decision:
    best = secret.best.version
    if secret.best.ambiguous:
        return _Decision(current, False, "the order of the newest versions is unknown")
    if best is None:
        return _Decision(current, False, "no valid version to move to")
    if best.ref == current:
        return _Decision(current, False, None)
    pinned = next((v for v in secret.versions if v.ref == current), None)
    if pinned is not None and is_newer(pinned, best, secret.announced) is not False:
        # the pinned version is newer than every valid one (or may be): moving could downgrade
        return _Decision(
            current, False, f"pinned version {current.version} is newer than the newest valid one"
        )
    why = "no longer exists" if pinned is None else "is not the newest valid version"
    return _Decision(best.ref, True, f"{current.version} {why}; moving to {best.version}")


def plan_rotation(
    *,
    versions: Mapping[SecretRef, Sequence[SecretVersion]],
    credential_sets: Sequence[CredentialSet],
    now: datetime,
    last_refresh: Mapping[ResourceId, datetime] | None = None,
    scope: str | None = None,
    refresh_when_unknown: bool = True,
    announced: Mapping[SecretRef, Announcements] | None = None,
    pin_disabled_latest: bool = False,
) -> Plan:
    """Actions that bring every credential set referencing one of the observed secrets to its
    newest valid version; `versions` maps each observed secret (versionless) to its versions, and
    `announced` each secret to the versions its rotation events named (the tie-breaker).
    With `refresh_when_unknown` (a rotation event says the secret changed), a versionless reference
    with no known last refresh is refreshed; the audit passes False, so it only refreshes what is
    Unhealthy or known to be older than the newest version. With `pin_disabled_latest` a
    versionless reference whose latest version is disabled is pinned to the newest valid one."""
    heard = {s.versionless(): dict(v) for s, v in (announced or {}).items()}
    observed: dict[SecretRef, ObservedSecret] = {}
    for ref, items in versions.items():
        key = ref.versionless()
        told = heard.get(key, {})
        found = list(items)
        best, read = newest_usable(found, now, told), latest(found, told)
        observed[key] = ObservedSecret(key, found, told, best, read)
    read_latest = {r.versionless() for c in credential_sets for r in (c.username, c.password)
                   if not r.is_versioned}  # fmt: skip
    findings: list[Finding] = []
    for key in sorted(observed, key=str):
        findings.extend(secret_findings(observed[key], now, read_latest=key in read_latest))
    actions: list[Action] = []
    refreshed = last_refresh or {}
    for credential_set in sorted(credential_sets, key=lambda c: str(c.id).lower()):
        action, notes = _plan_one(
            credential_set,
            observed,
            refreshed.get(credential_set.id),
            refresh_when_unknown=refresh_when_unknown,
            pin=pin_disabled_latest,
        )
        findings.extend(notes)
        if action is not None:
            actions.append(action)
    state = {
        "versions": sorted(
            (str(s), v.version, v.enabled, str(v.not_before), str(v.expires))
            for s, secret in observed.items()
            for v in secret.versions
        ),
        "sets": sorted(
            (str(c.id).lower(), str(c.username), str(c.password), c.health.status.value)
            for c in credential_sets
        ),
    }
    told_any = sorted(
        (str(s), version, str(at)) for s, secret in observed.items()
        for version, at in secret.announced.items()
    )  # fmt: skip
    if told_any:
        state["announced"] = told_any
    return Plan(
        scope=scope or ",".join(sorted(str(s) for s in observed)),
        actions=tuple(actions),
        findings=tuple(findings),
        state_fingerprint=fingerprint(state),
    )


def _plan_one(
    credential_set: CredentialSet,
    observed: Mapping[SecretRef, ObservedSecret],
    last_refresh: datetime | None,
    *,
    refresh_when_unknown: bool,
    pin: bool,
) -> tuple[Action | None, list[Finding]]:
    refs = {"username": credential_set.username, "password": credential_set.password}
    decisions: dict[str, _Decision] = {}
    findings: list[Finding] = []
    versionless: list[str] = []
    newest: list[SecretVersion] = []
    blocked = False  # a versionless reference reads a disabled version: a refresh re-reads it
    for role, ref in refs.items():
        secret = observed.get(ref.versionless())
        if secret is None:
            continue
        if ref.is_versioned:
            decisions[role] = _decide_versioned(ref, secret)
            continue
        read = secret.latest.version
        if read is not None and not read.enabled:
            valid = secret.best.version
            pinning = pin and valid is not None
            findings.append(disabled_latest(credential_set, role, secret, pinning))
            if pinning and valid is not None:
                note = f"latest version {read.version} is disabled; pinning to {valid.version}"
                decisions[role] = _Decision(valid.ref, True, note)
            else:
                blocked = True
            continue
        if secret.best.version is not None:
            versionless.append(role)
            newest.append(secret.best.version)
    changed = {role: d for role, d in decisions.items() if d.changed}
    if changed:
        after = {role: changed[role].ref if role in changed else ref for role, ref in refs.items()}
        return Action(
            kind=ActionKind.UPDATE_CREDENTIAL_SET,
            resource=str(credential_set.id),
            reason="; ".join(f"{role}: {d.note}" for role, d in changed.items()),
            changes=CredentialSetSecrets(
                refs["username"], refs["password"], after["username"], after["password"]
            ),
        ), findings
    if not versionless or blocked:
        return None, findings
    unhealthy = credential_set.health.status is HealthStatus.UNHEALTHY and refresh_can_help(
        credential_set.health
    )
    latest_valid = max(newest, key=_order)
    if last_refresh is None:
        newer = refresh_when_unknown
    else:
        newer = _created(latest_valid) > last_refresh.replace(tzinfo=None)
    if not (unhealthy or newer):
        return None, findings
    reason = (
        "credential set is Unhealthy"
        if unhealthy
        else f"version {latest_valid.version} is newer than the last refresh"
    )
    return Action(
        kind=ActionKind.REFRESH_CREDENTIAL_SET,
        resource=str(credential_set.id),
        reason=f"{'/'.join(versionless)} versionless: {reason}",
        changes=CredentialSetSecrets.resend(credential_set.username, credential_set.password),
    ), findings
