"""Cache rules created within budget: a signal's own and its registry's hourly one.

Every rule a repository request creates (an alert's 404s, a PullFailed 404, a RepositoryRequested
event, `POST /api/repositories`, `apply` of a repository scope) first takes one unit of each
budget in the journal (conditional writes, so two workers cannot both take the last one), and
gives them back when the create fails. A rule over budget is deferred: its outcome is recorded
`deferred` with a `cache-rule-deferred` finding saying when to ask again (`shared/domain/
rule_budget.py` has the arithmetic); the next failing pull, event or request asks again.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.plans import Action, Finding, OutcomeStatus, Plan, Severity
from shared.domain.rule_budget import (
    SIGNAL_BUDGET_TTL,
    Deferral,
    registry_window,
    signal_budget_key,
)
from shared.services.appliers.cache_rules import send_cache_rule
from shared.services.context import Context
from shared.services.records import record_findings, record_signal
from shared.services.results import Reaction, ReactionStatus

__all__ = ["defer_rule", "send_within_budget"]

log = logging.getLogger(__name__)


def send_within_budget(
    ctx: Context, registry: ResourceId, action: Action, *, signal_group: str | None
) -> CacheRule | Deferral:
    """Take one unit of the signal's budget (`signal_group`: a signal naming several repositories,
    an alert; None: the signal asks for this one rule only) and of the registry's, and ask ARM
    for the rule; a Deferral when one is spent. Errors of the create give the units back and
    propagate."""
    settings, journal, now = ctx.settings, ctx.journal, ctx.clock.now()
    spent: list[str] = []
    if signal_group is not None:
        own, limit = signal_budget_key(signal_group), settings.max_rules_per_signal
        if not journal.spend(own, limit=limit, now=now, ttl=SIGNAL_BUDGET_TTL):
            return Deferral(
                f"signal {signal_group} already created {limit} cache rule(s), its limit "
                "(MAX_RULES_PER_SIGNAL)"
            )
        spent.append(own)
    hourly, refill = registry_window(str(registry), now)
    limit = settings.max_rules_per_registry_hour
    if not journal.spend(hourly, limit=limit, now=now, ttl=refill - now):
        _refund(ctx, spent)
        return Deferral(
            f"{limit} cache rule(s) were created in {registry.name} this hour, its limit "
            f"(MAX_RULES_PER_REGISTRY_HOUR); the budget refills at {refill:%H:%M}Z",
            refill,
        )
    try:
        return send_cache_rule(ctx, action)
    except BaseException:
        _refund(ctx, [hourly, *spent])
        raise


def defer_rule(
    ctx: Context, deferral: Deferral, plan: Plan, details: dict[str, Any], *, signal_id: str
) -> Reaction:
    """Record a rule deferred by its budget (the signal's closing outcome and a finding)."""
    where = plan.scope
    retry_after = deferral.retry_after(ctx.clock.now())
    fix = (
        f"request it again after {deferral.retry_at:%H:%M}Z (the next failing pull does), or "
        "raise MAX_RULES_PER_REGISTRY_HOUR"
        if deferral.retry_at is not None
        else "request it again (POST /api/repositories), or raise MAX_RULES_PER_SIGNAL"
    )
    reason = f"deferred: {deferral.reason}"
    finding = Finding("cache-rule-deferred", Severity.WARNING, where, reason, fix)
    record_findings(ctx, [finding], signal_id=signal_id)
    outcome = record_signal(ctx, signal_id, where, OutcomeStatus.DEFERRED, reason)
    log.warning("cache rule for %s deferred: %s", where, deferral.reason)
    answer = Plan(where, plan.actions, (*plan.findings, finding), plan.state_fingerprint)
    return Reaction(
        ReactionStatus.DEFERRED, reason, answer, (outcome,),
        details | {"retryAfterSeconds": retry_after},
    )  # fmt: skip


def _refund(ctx: Context, keys: list[str]) -> None:
    for key in keys:
        try:
            ctx.journal.refund(key, now=ctx.clock.now())
        except Exception as error:  # the unit stays spent: the budget errs towards fewer rules
            log.warning("could not give back a unit of %s: %s", key, error)
