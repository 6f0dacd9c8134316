"""React to Key Vault events: rotation, near-expiry and expiry, access-policy changes.

Events are hints: the event names a secret; what to do is planned from the current state of every
managed registry's credential sets and the secret's versions. A duplicate delivery is a no-op
(idempotency record keyed by event id, with the payload hash); a late or reordered one plans
nothing because state is already right.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from shared.domain.models import CredentialSet
from shared.domain.plans import Finding, Outcome, OutcomeStatus, Plan, Severity
from shared.domain.rotation import plan_rotation
from shared.domain.secrets import SecretRef
from shared.errors import InvalidEventError
from shared.events import Envelope, KeyVaultEventKind, KeyVaultSignal, parse_keyvault_signal
from shared.services.access_checks import recheck_vault_access
from shared.services.context import Context
from shared.services.credential_sets import (
    apply_rotation,
    last_refreshes,
    observe_versions,
    record_findings,
    terminal_outcome,
)
from shared.services.once import event_id_of, handle_once, reject_event
from shared.services.results import Reaction, ReactionStatus

__all__ = ["IGNORED_EVENTS", "react_to_keyvault_event"]

log = logging.getLogger(__name__)

IGNORED_EVENTS: Counter[str] = Counter()
"""Events ignored as out of scope, by reason (exposed for metrics and tests)."""


def react_to_keyvault_event(event: Mapping[str, Any], ctx: Context) -> Reaction:
    """Handle one Key Vault event (Event Grid or CloudEvents JSON). Transient errors propagate."""
    try:
        signal = parse_keyvault_signal(Envelope.from_dict(event))
    except InvalidEventError as error:
        return reject_event(
            ctx, event_id_of(event), "keyvault-event", f"malformed Key Vault event: {error}"
        )
    # claimed before the scope check, so a redelivered out-of-scope event is a duplicate too:
    # every event id gets exactly one terminal outcome
    return handle_once(
        ctx,
        key=f"keyvault:{signal.event_id}",
        payload_hash=signal.payload_hash,
        signal_id=signal.event_id,
        resource=signal.topic,
        handle=lambda: _in_scope(signal, ctx),
    )


def _in_scope(signal: KeyVaultSignal, ctx: Context) -> Reaction:
    problem = _out_of_scope(signal, ctx)
    if problem is None:
        return _dispatch(signal, ctx)
    code, reason = problem
    IGNORED_EVENTS[code] += 1
    log.warning("ignoring Key Vault event %s: %s", signal.event_id, reason)
    ctx.journal.record_outcome(
        Outcome(signal.event_id, signal.topic, OutcomeStatus.IGNORED, reason, ctx.clock.now())
    )
    return Reaction(ReactionStatus.IGNORED, reason)


def _out_of_scope(signal: KeyVaultSignal, ctx: Context) -> tuple[str, str] | None:
    if signal.vault is None or not signal.vault.is_type("Microsoft.KeyVault/vaults"):
        return "topic-not-a-vault", f"topic {signal.topic!r} is not a Key Vault resource id"
    if not ctx.settings.allows_vault(signal.vault):
        return "vault-not-allowed", f"vault {signal.vault} is not in VAULT_ALLOWLIST"
    if signal.secret is not None and signal.secret.vault_name != signal.vault.name.lower():
        return (
            "vault-mismatch",
            f"secret {signal.secret} is not in the topic's vault {signal.vault.name}",
        )
    return None


def _dispatch(signal: KeyVaultSignal, ctx: Context) -> Reaction:
    if signal.kind is KeyVaultEventKind.ACCESS_POLICY_CHANGED:
        return recheck_vault_access(ctx, signal)
    assert signal.secret is not None  # every secret event carries one (parse_keyvault_signal)
    return _rotate(ctx, signal, signal.secret.versionless())


def _rotate(ctx: Context, signal: KeyVaultSignal, secret: SecretRef) -> Reaction:
    # the registries and the secret's versions are independent reads: one round of concurrency
    with ThreadPoolExecutor(max_workers=2) as pool:
        listing = pool.submit(ctx.managed_credential_sets)
        reading = pool.submit(observe_versions, ctx, [secret])
    credential_sets = [c for c in listing.result() if c.references(secret)]
    versions, missing = reading.result()
    plan = plan_rotation(
        versions=versions,
        credential_sets=credential_sets,
        now=ctx.clock.now(),
        last_refresh=last_refreshes(ctx, credential_sets),
        scope=str(secret),
    )
    findings = [*missing, *plan.findings]
    if signal.kind in (KeyVaultEventKind.SECRET_NEAR_EXPIRY, KeyVaultEventKind.SECRET_EXPIRED):
        findings.append(_expiry_finding(ctx, signal, secret, credential_sets))
    plan = Plan(plan.scope, plan.actions, tuple(findings), plan.state_fingerprint)
    outcomes = apply_rotation(ctx, plan, signal_id=signal.event_id)
    record_findings(ctx, plan.findings, signal_id=signal.event_id)
    nothing = (
        "no credential set needed a change"
        if credential_sets
        else "no managed credential set uses this secret"
    )
    status = terminal_outcome(ctx, signal.event_id, str(secret), outcomes, nothing=nothing)
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
