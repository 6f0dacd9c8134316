"""React to Key Vault secret events: rotation, near-expiry and expiry (access-policy changes are
re-checked by `shared.services.access_checks`).

Events are hints: the event names a secret; what to do is planned from the current state of every
managed registry's credential sets and the secret's versions. A duplicate delivery is a no-op
(idempotency record keyed by event id, with the payload hash); a late or reordered one plans
nothing because state is already right.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from shared.domain.models import CredentialSet, sets_by_secret
from shared.domain.plans import Finding, Plan, Severity
from shared.domain.secrets import SecretRef
from shared.services.appliers import apply_actions
from shared.services.context import Context
from shared.services.records import record_announcement, record_findings, record_terminal
from shared.services.results import Ignored, Reaction, ReactionStatus
from shared.services.rotations import observe_versions, plan_rotations
from shared.signals.keyvault import KeyVaultEventKind, KeyVaultSignal

__all__ = ["keyvault_scope", "rotate_secret"]

log = logging.getLogger(__name__)


def keyvault_scope(ctx: Context, signal: KeyVaultSignal) -> Ignored | None:
    """A Key Vault event is in scope when its topic is an allow-listed vault holding its secret."""
    if signal.vault is None or not signal.vault.is_type("Microsoft.KeyVault/vaults"):
        reason = f"topic {signal.topic!r} is not a Key Vault resource id"
        return Ignored("topic-not-a-vault", reason, signal.topic)
    if not ctx.settings.allows_vault(signal.vault):
        reason = f"vault {signal.vault} is not in VAULT_ALLOWLIST"
        return Ignored("vault-not-allowed", reason, signal.topic)
    if signal.secret is not None and signal.secret.vault_name != signal.vault.name.lower():
        reason = f"secret {signal.secret} is not in the topic's vault {signal.vault.name}"
        return Ignored("vault-mismatch", reason, signal.topic)
    return None


def rotate_secret(ctx: Context, signal: KeyVaultSignal, signal_id: str) -> Reaction:
    """A secret event (new version, near expiry, expired): move every managed credential set that
    references the secret to its newest valid version; expiry events also report what breaks."""
    assert signal.secret is not None  # every secret event carries one (parse_keyvault_signal)
    if signal.kind is KeyVaultEventKind.SECRET_NEW_VERSION:
        record_announcement(ctx, signal.secret, at=signal.time)
    return _rotate(ctx, signal, signal.secret.versionless())


def _rotate(ctx: Context, signal: KeyVaultSignal, secret: SecretRef) -> Reaction:
    # the registries and the secret's versions are independent reads: one round of concurrency
    with ThreadPoolExecutor(max_workers=2) as pool:
        listing = pool.submit(ctx.managed_credential_sets)
        reading = pool.submit(observe_versions, ctx, [secret])
    credential_sets = list(sets_by_secret(listing.result()).get(secret, ()))
    versions, missing = reading.result()
    plan = plan_rotations(
        ctx, credential_sets, versions, missing, scope=str(secret),
        # only a new version is news: near-expiry and expiry leave the latest version as it was,
        # so a versionless reference with no known refresh is not refreshed for them
        refresh_when_unknown=signal.kind is KeyVaultEventKind.SECRET_NEW_VERSION,
    )  # fmt: skip
    findings = list(plan.findings)
    if signal.kind in (KeyVaultEventKind.SECRET_NEAR_EXPIRY, KeyVaultEventKind.SECRET_EXPIRED):
        findings.append(_expiry_finding(ctx, signal, secret, credential_sets))
    plan = Plan(plan.scope, plan.actions, tuple(findings), plan.state_fingerprint)
    outcomes = apply_actions(ctx, plan.actions, signal_id=signal.event_id)
    record_findings(ctx, plan.findings, signal_id=signal.event_id)
    nothing = (
        "no credential set needed a change"
        if credential_sets
        else "no managed credential set uses this secret"
    )
    status = record_terminal(ctx, signal.event_id, str(secret), outcomes, nothing=nothing)
    if (
        status is ReactionStatus.NO_CHANGE
        and signal.kind is not KeyVaultEventKind.SECRET_NEW_VERSION
    ):
        status = ReactionStatus.REPORTED
    return Reaction(
        status,
        nothing if not outcomes else f"{len(outcomes)} credential set(s) updated",
        plan,
        outcomes,
    )


def _expiry_finding(
    ctx: Context, signal: KeyVaultSignal, secret: SecretRef, credential_sets: list[CredentialSet]
) -> Finding:
    expired = signal.kind is KeyVaultEventKind.SECRET_EXPIRED
    affected = [
        c for c in credential_sets if any(r.same_secret(secret) for r in (c.username, c.password))
    ]
    rules: list[str] = []
    for registry in sorted({c.registry for c in affected}, key=str):
        ids = {c.id for c in affected}
        rules.extend(
            str(r.id) for r in ctx.registry.list_cache_rules(registry) if r.credential_set_id in ids
        )
    when = signal.expires.isoformat() if signal.expires else "unknown"
    return Finding(
        kind="secret-expired" if expired else "secret-near-expiry",
        severity=Severity.CRITICAL if expired else Severity.WARNING,
        resource=str(signal.secret),
        message=(
            f"{secret} {'expired' if expired else 'expires'} at {when}: "
            f"{len(affected)} credential set(s) and {len(rules)} cache rule(s) depend on it"
        ),
        fix=f"add a new version of {secret.name} in vault {secret.vault_name}; cachekeeper moves the credential sets",
        evidence={
            "breaksAt": when,
            "credentialSets": sorted(str(c.id) for c in affected),
            "cacheRules": sorted(rules),
        },
    )
