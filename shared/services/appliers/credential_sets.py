"""Appliers for `update-credential-set` and `refresh-credential-set`.

Both write under the credential set's lease (renewed before the PATCH when it has less than a
call's budget left; the PATCH is fenced by it: shared/services/leases.py) and verify from ARM's
answer to the PATCH: the credential set as ARM stored it (200, or the async operation's final
state), so a separate GET would read the same resource again (ACR's health is evaluated on its own
schedule, not live: a GET right after the PATCH knows no more than its answer). The outcome carries
the health ACR reports after the change. A Healthy read-back verifies the change (succeeded); any
other leaves it pending verification, since ACR's health lags behind writes and RBAC
(shared/domain/verification.py): never succeeded while the read-back says Unhealthy.
"""

from __future__ import annotations

from shared.domain.actions import CredentialSetSecrets
from shared.domain.ids import ResourceId
from shared.domain.models import CredentialSet
from shared.domain.plans import Action, Outcome
from shared.errors import ConcurrencyError, PermanentError
from shared.services.context import Context
from shared.services.leases import lease
from shared.services.records import record_action, record_pending

__all__ = ["refresh_credential_set", "update_credential_set"]


def _payload(action: Action) -> CredentialSetSecrets:
    if not isinstance(action.changes, CredentialSetSecrets):
        raise TypeError(f"{action.kind.value} needs CredentialSetSecrets, not {action.changes!r}")
    return action.changes


def _identifiers(credential_set: CredentialSet) -> dict[str, str]:
    return {"username": str(credential_set.username), "password": str(credential_set.password)}


def update_credential_set(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Move the credential set to the payload's identifiers, unless it moved since it was observed
    (compare-before-write: writing now would undo another worker's change; ConcurrencyError is
    transient, so the signal is redelivered and re-planned from the new state)."""
    secrets = _payload(action)
    credential_set = ResourceId.parse(action.resource)
    before, after = secrets.before(), secrets.after()
    try:
        with lease(ctx, action.resource) as held:
            if _identifiers(ctx.registry.get_credential_set(credential_set)) != before:
                raise ConcurrencyError(
                    f"{credential_set} changed since it was observed; re-planning from current state"
                )
            held.cover_write()
            verified = ctx.registry.update_credential_set(
                credential_set, username=secrets.username, password=secrets.password,
                fence=held.fence,
            )  # fmt: skip
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error, before=before, after=after)
    return _verified(ctx, action, signal_id, before, verified)


def refresh_credential_set(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Re-send the identifiers the credential set has now (not what the plan saw: a rival may
    have moved it since, and re-sending its choice undoes nothing), so ACR re-reads the secrets."""
    _payload(action)
    credential_set = ResourceId.parse(action.resource)
    try:
        with lease(ctx, action.resource) as held:
            current = ctx.registry.get_credential_set(credential_set)
            held.cover_write()
            verified = ctx.registry.update_credential_set(
                credential_set, username=current.username, password=current.password,
                fence=held.fence,
            )  # fmt: skip
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    return _verified(ctx, action, signal_id, _identifiers(current), verified)


def _verified(
    ctx: Context, action: Action, signal_id: str, before: dict[str, str], verified: CredentialSet
) -> Outcome:
    health = verified.health
    if health.is_healthy:
        return record_action(
            ctx, action, signal_id, before=before,
            after=_identifiers(verified), health=health.status.value,
        )  # fmt: skip
    detail = ": ".join(p for p in (health.error_code, health.error_message) if p)
    reason = f"{action.reason}; health after the change: {health.status.value}" + (
        f" ({detail})" if detail else ""
    )
    return record_pending(
        ctx, action, signal_id, credential_set=action.resource, reason=reason, before=before,
        after=_identifiers(verified), health=health.status.value,
    )  # fmt: skip
