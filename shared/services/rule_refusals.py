"""What a cache rule create depends on beyond ARM's rule list: the registry's catalog (ACR refuses
a rule whose target, or a wildcard's prefix, already holds a repository) and ARM's earlier
refusals, remembered in the journal so a refused create is not planned again for the same state
(`shared/domain/refusals.py`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.refusals import CreateGuard, RuleRefusal, refusal_state
from shared.domain.repositories import TargetPath
from shared.errors import ConflictError, PermanentError, PolicyViolationError, TransientError
from shared.services.context import Context

__all__ = ["create_guard", "read_catalog", "remember_refused_rule"]

log = logging.getLogger(__name__)


def read_catalog(ctx: Context, registry: ResourceId) -> tuple[TargetPath, ...] | None:
    """The registry's repositories, or None when the catalog cannot be read (no data-plane
    access): then ARM decides, and its refusal is remembered."""
    try:
        return tuple(ctx.registry.list_repositories(registry))
    except PermanentError as error:
        log.warning("cannot list the repositories of %s: %s", registry.name, error)
        return None


def create_guard(
    ctx: Context, registry: ResourceId, repositories: Sequence[TargetPath] | None
) -> CreateGuard:
    """The guard for planning creates in `registry`, from its catalog (as read, or None) and the
    refusals the journal remembers."""
    known = None if repositories is None else tuple(repositories)
    return CreateGuard(known, tuple(ctx.journal.refusals(str(registry))))


def remember_refused_rule(
    ctx: Context, registry: ResourceId, spec: RuleSpec, error: PermanentError
) -> None:
    """Remember that ARM refused `spec` (a validation refusal: conflict or bad request) together
    with the state it was refused for, read now; other errors are not a verdict on the rule."""
    if not isinstance(error, ConflictError | PolicyViolationError):
        return
    try:
        rules = ctx.registry.list_cache_rules(registry)
        state = refusal_state(spec, rules, read_catalog(ctx, registry))
        rule = str(registry.child("cacheRules", spec.name))
        ctx.journal.remember_refusal(RuleRefusal(rule, state, str(error), ctx.clock.now()))
    except (PermanentError, TransientError) as failure:
        # Without the memory the create is planned (and refused) again: noisy, not wrong.
        log.warning("cannot remember the refusal of rule %s: %s", spec.name, failure)
