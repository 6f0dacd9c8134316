"""Applier for `create-cache-rule`: the rule the payload names, created in its registry. ARM's
refusal is remembered (`rule_refusals.py`), so the create is not planned again for the same state.

`send_cache_rule` and `record_created` are its two halves, for a caller (a repository request)
that turns ACR's refusal into a reasoned rejection instead of a failed action.
"""

from __future__ import annotations

import logging

from shared.domain.actions import CacheRuleCreation
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.plans import Action, Outcome
from shared.errors import InvalidInputError, PermanentError
from shared.services.context import Context
from shared.services.records import record_action
from shared.services.rule_refusals import remember_refused_rule

__all__ = ["create_cache_rule", "record_created", "send_cache_rule"]

log = logging.getLogger(__name__)


def send_cache_rule(ctx: Context, action: Action) -> CacheRule:
    """Ask ARM for the rule; PermanentError when ACR refuses it."""
    creation = action.changes
    if not isinstance(creation, CacheRuleCreation):
        raise TypeError(f"{action.kind.value} needs CacheRuleCreation, not {creation!r}")
    registry = ResourceId.parse(action.resource).parent
    if registry is None:
        raise InvalidInputError(f"{action.resource} is not a cache rule id")
    return ctx.registry.create_cache_rule(registry, creation.rule)


def record_created(ctx: Context, action: Action, signal_id: str, created: CacheRule) -> Outcome:
    """The outcome of a created rule: succeeded only when ARM says it provisioned."""
    state = created.provisioning_state or "Unknown"
    log.info("created cache rule %s: %s", created.id, state)
    return record_action(
        ctx, action, signal_id, resource=str(created.id), after=action.changes.to_dict(),
        health=state, failed=state != "Succeeded",
    )  # fmt: skip


def create_cache_rule(ctx: Context, action: Action, signal_id: str) -> Outcome:
    """Create the rule and record what happened."""
    try:
        created = send_cache_rule(ctx, action)
    except PermanentError as error:
        refused = ResourceId.parse(action.resource).parent
        if refused is not None and isinstance(action.changes, CacheRuleCreation):
            remember_refused_rule(ctx, refused, action.changes.rule, error)
        return record_action(ctx, action, signal_id, error=error)
    return record_created(ctx, action, signal_id, created)
