"""Carry out planned actions: one applier per action kind, the same for every caller.

A reaction (rotation, access repair, repository request), `POST /api/apply` and the audit's
reconcile all apply through `apply_actions`, so an action does the same thing whoever planned it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shared.domain.plans import Action, ActionKind, Outcome
from shared.services.appliers.cache_rules import create_cache_rule
from shared.services.appliers.credential_sets import refresh_credential_set, update_credential_set
from shared.services.appliers.declared_sets import (
    create_and_grant,
    create_credential_set,
    delete_credential_set,
    move_cache_rule,
)
from shared.services.appliers.grants import grant_secret_read
from shared.services.appliers.pull_grants import grant_pull
from shared.services.context import Context, fan_out
from shared.services.verification import verify_by_read_backs

__all__ = ["APPLIERS", "apply_actions"]

Applier = Callable[[Context, Action, str], Outcome]

APPLIERS: dict[ActionKind, Applier] = {
    ActionKind.GRANT_SECRET_READ: grant_secret_read,
    ActionKind.UPDATE_CREDENTIAL_SET: update_credential_set,
    ActionKind.REFRESH_CREDENTIAL_SET: refresh_credential_set,
    ActionKind.CREATE_CACHE_RULE: create_cache_rule,
    ActionKind.GRANT_PULL: grant_pull,
    ActionKind.CREATE_CREDENTIAL_SET: create_credential_set,
    ActionKind.DELETE_CREDENTIAL_SET: delete_credential_set,
    ActionKind.MOVE_CACHE_RULE: move_cache_rule,
}


def apply_actions(
    ctx: Context, actions: Sequence[Action], *, signal_id: str
) -> tuple[Outcome, ...]:
    """Declared credential sets that are missing first (each with its new identity's grants),
    then grants (so a refresh that follows lets ACR see them), then one write per credential
    set (an update re-sends the identifiers, so it also refreshes: a refresh of the same set is
    dropped), then rules moved between credential sets, then new rules, then credential sets
    declared absent, then pullers' grants; each step's actions run concurrently. A grant whose
    credential set read back Healthy after its write is verified at once."""

    def run(batch: Sequence[Action]) -> list[Outcome]:
        return fan_out(lambda a: APPLIERS[a.kind](ctx, a, signal_id), batch)

    def of(kind: ActionKind) -> list[Action]:
        return [a for a in actions if a.kind is kind]

    creations = of(ActionKind.CREATE_CREDENTIAL_SET)
    created = [o for batch in fan_out(lambda a: create_and_grant(ctx, a, signal_id), creations)
               for o in batch]  # fmt: skip
    grants = of(ActionKind.GRANT_SECRET_READ)
    per_set: dict[str, Action] = {}
    for action in actions:
        if action.kind is ActionKind.UPDATE_CREDENTIAL_SET or (
            action.kind is ActionKind.REFRESH_CREDENTIAL_SET and action.resource not in per_set
        ):
            per_set[action.resource] = action
    rules = [a for a in actions if a.kind is ActionKind.CREATE_CACHE_RULE]
    granted = run(grants)
    written = run(list(per_set.values()))
    pulls = [a for a in actions if a.kind is ActionKind.GRANT_PULL]
    verified = verify_by_read_backs(ctx, grants, granted, written)
    moved = run(of(ActionKind.MOVE_CACHE_RULE))
    made = run(rules)
    deleted = run(of(ActionKind.DELETE_CREDENTIAL_SET))
    return (*created, *verified, *written, *moved, *made, *deleted, *run(pulls))
