"""Appliers for the declared credential sets: `create-credential-set` (then, in fix mode, the
grants its new identity needs), `delete-credential-set` and `move-cache-rule`.

Each compares before it writes (the state the plan saw must still hold, else ConcurrencyError:
re-planned from the new state) and reads back after: a created set must have a system-assigned
identity, a deleted one must be gone, a moved rule must name the credential set it was given.
The grants after a creation are `grant-secret-read` actions of their own, pending verification
until the new set's health confirms them (RBAC takes minutes to apply: shared/domain/verification.py).
"""

from __future__ import annotations

from shared.domain.actions import (
    CredentialSetCreation,
    CredentialSetDeletion,
    RuleCredentialSetMove,
    SecretReadGrant,
)
from shared.domain.ids import ResourceId
from shared.domain.plans import Action, ActionKind, Outcome
from shared.errors import ConcurrencyError, NotFoundError, PermanentError
from shared.services.appliers.grants import grant_secret_read
from shared.services.context import Context
from shared.services.leases import lease
from shared.services.records import record_action

__all__ = ["create_and_grant", "create_credential_set", "delete_credential_set", "move_cache_rule"]


def _exists(ctx: Context, credential_set: ResourceId) -> bool:
    try:
        ctx.registry.get_credential_set(credential_set)
    except NotFoundError:
        return False
    return True


def create_credential_set(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Create the declared set (its grants are `create_and_grant`'s)."""
    return create_and_grant(ctx, action, signal_id)[0]


def create_and_grant(ctx: Context, action: Action, signal_id: str) -> list[Outcome]:
    """Create the set, read it back, then grant its new identity read on each secret scope the
    payload names: the creation's outcome first, then one per grant."""
    creation = action.changes
    if not isinstance(creation, CredentialSetCreation):
        raise TypeError(f"{action.kind.value} needs CredentialSetCreation, not {creation!r}")
    credential_set = ResourceId.parse(action.resource)
    try:
        with lease(ctx, action.resource):
            if _exists(ctx, credential_set):
                raise ConcurrencyError(
                    f"{credential_set} exists already: re-planning from current state"
                )
            created = ctx.registry.create_credential_set(
                credential_set, login_server=creation.login_server,
                username=creation.username, password=creation.password,
            )  # fmt: skip
    except PermanentError as error:
        return [record_action(ctx, action, signal_id, error=error)]
    principal = created.principal_id
    after = {"principalId": principal, "provisioningState": created.provisioning_state}
    if not principal:
        return [record_action(ctx, action, signal_id, failed=True, after=after,
            reason=f"{action.reason}; the read-back has no system-assigned identity")]  # fmt: skip
    outcomes = [
        record_action(ctx, action, signal_id, after=after, health=created.health.status.value)
    ]
    for scope in creation.grants:
        grant = Action(
            ActionKind.GRANT_SECRET_READ, scope,
            f"grant Key Vault Secrets User on {ResourceId.parse(scope).name} to the new identity of {credential_set.name}",
            SecretReadGrant(principal, creation.role_definition_id, action.resource),
        )  # fmt: skip
        outcomes.append(grant_secret_read(ctx, grant, signal_id))
    return outcomes


def delete_credential_set(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Delete a set declared absent, after checking that no cache rule uses it now (ACR refuses
    the delete otherwise), and read back that it is gone."""
    if not isinstance(action.changes, CredentialSetDeletion):
        raise TypeError(f"{action.kind.value} needs CredentialSetDeletion")
    credential_set = ResourceId.parse(action.resource)
    registry = credential_set.parent
    assert registry is not None  # a credential set id always has its registry
    try:
        with lease(ctx, action.resource):
            users = sorted(
                r.name for r in ctx.registry.list_cache_rules(registry)
                if r.credential_set_id == credential_set
            )  # fmt: skip
            if users:
                raise ConcurrencyError(
                    f"{credential_set.name} is used by cache rule(s) {', '.join(users)} now: "
                    "re-planning from current state"
                )
            ctx.registry.delete_credential_set(credential_set)
            gone = not _exists(ctx, credential_set)
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error)
    return record_action(ctx, action, signal_id, failed=not gone, before=action.changes.to_dict(),
        reason=None if gone else f"{action.reason}; it still reads back")  # fmt: skip


def move_cache_rule(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Point the rule at the payload's credential set (or none), unless it moved since."""
    move = action.changes
    if not isinstance(move, RuleCredentialSetMove):
        raise TypeError(f"{action.kind.value} needs RuleCredentialSetMove, not {move!r}")
    rule = ResourceId.parse(action.resource)
    wanted = ResourceId.parse(move.to) if move.to else None
    before, after = {"credentialSet": move.before}, {"credentialSet": move.to}
    try:
        with lease(ctx, action.resource):
            current = ctx.registry.get_cache_rule(rule).credential_set_id
            expected = move.before.lower() if move.before else None
            if (current.key if current else None) != expected:
                raise ConcurrencyError(f"{rule} changed since it was observed; re-planning")
            moved = ctx.registry.update_cache_rule(rule, credential_set=wanted).credential_set_id
    except PermanentError as error:
        return record_action(ctx, action, signal_id, error=error, before=before, after=after)
    landed = moved == wanted
    return record_action(ctx, action, signal_id, failed=not landed, before=before,
        after={"credentialSet": str(moved) if moved else None},
        reason=None if landed else f"{action.reason}; the rule reads back {moved}")  # fmt: skip
