"""New repositories: create the cache rule the policy table prescribes, or record why not.

Signals: a pull failure with 404 for a repository no rule serves (the target path is mapped back
to its upstream through the policy templates), a `cachekeeper.RepositoryRequested` event, and
`POST /api/repositories`.
"""

from __future__ import annotations

import logging

from shared.domain.cache_rules import RuleSpec, check_new_rule, find_serving_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.plans import (
    Action,
    ActionKind,
    Finding,
    Outcome,
    OutcomeStatus,
    Plan,
    Severity,
    fingerprint,
)
from shared.domain.policies import decide, upstream_for_target
from shared.domain.repositories import TargetPath, Upstream
from shared.errors import PermanentError
from shared.pull_events import PullFailure
from shared.services.context import Context
from shared.services.credential_sets import record_findings
from shared.services.results import Reaction, ReactionStatus

__all__ = ["request_from_pull_failure", "request_repository", "request_target"]

log = logging.getLogger(__name__)


def _refuse(
    ctx: Context, signal_id: str, resource: str, message: str, *, fix: str | None = None
) -> Reaction:
    finding = Finding("repository-request-refused", Severity.WARNING, resource, message, fix)
    record_findings(ctx, [finding], signal_id=signal_id)
    ctx.journal.record_outcome(
        Outcome(signal_id, resource, OutcomeStatus.REJECTED, message, ctx.clock.now())
    )
    return Reaction(ReactionStatus.REJECTED, message, Plan(resource, (), (finding,)))


def request_target(
    ctx: Context, registry: ResourceId, target: TargetPath, *, dry_run: bool = False, signal_id: str
) -> Reaction:
    """A request for a path inside the registry: map it back to its upstream through the policy
    templates, then handle it like a request for that upstream."""
    policies = [p.policy for p in ctx.policies.list_policies()]
    upstream = upstream_for_target(target, policies, registry=registry.name)
    if upstream is None:
        return _refuse(ctx, signal_id, f"{registry.name}/{target}", f"no allow row of the policy table maps a target to {target}",
                       fix="add a policy row whose targetTemplate produces this path, or request the upstream")  # fmt: skip
    return request_repository(ctx, registry, upstream, dry_run=dry_run, signal_id=signal_id)


def request_repository(
    ctx: Context, registry: ResourceId, upstream: Upstream, *, dry_run: bool = False, signal_id: str
) -> Reaction:
    """Plan (and unless `dry_run`, create) the cache rule the policy prescribes for `upstream`."""
    policies = [p.policy for p in ctx.policies.list_policies()]
    where = f"{registry.name}/{upstream}"
    rules = ctx.registry.list_cache_rules(registry)
    decision = decide(
        upstream, policies, registry=registry.name, taken_names=[r.name for r in rules]
    )
    if not decision.allowed or decision.rule is None:
        return _refuse(
            ctx, signal_id, where, decision.reason, fix="ask for a policy row that allows it"
        )
    spec = decision.rule
    served = _already_served(ctx, spec, rules, signal_id=signal_id, upstream=upstream)
    if served is not None:
        return served
    credential_sets = (
        [c.name for c in ctx.registry.list_credential_sets(registry)]
        if spec.credential_set
        else None
    )
    reasons = check_new_rule(spec, rules, known_credential_sets=credential_sets)
    if reasons:
        return _refuse(
            ctx, signal_id, where, f"cannot create rule {spec.name}: {'; '.join(reasons)}"
        )
    rule_id = registry.child("cacheRules", spec.name)
    action = Action(ActionKind.CREATE_CACHE_RULE, str(rule_id), decision.reason, {
        "sourceRepository": str(spec.source), "targetRepository": str(spec.target),
        "credentialSet": spec.credential_set, "policy": decision.policy.id if decision.policy else None,
    })  # fmt: skip
    plan = Plan(where, (action,), (), fingerprint([str(upstream), sorted(r.name for r in rules)]))
    if dry_run:
        return Reaction(ReactionStatus.PLANNED, f"would create rule {spec.name}", plan)
    try:
        created = ctx.registry.create_cache_rule(registry, spec)
    except PermanentError as error:
        return _refuse(ctx, signal_id, where, f"ACR refused rule {spec.name}: {error}")
    outcome = Outcome(signal_id, str(created.id), OutcomeStatus.SUCCEEDED, decision.reason, ctx.clock.now(),
                      ActionKind.CREATE_CACHE_RULE, {}, dict(action.changes), created.provisioning_state)  # fmt: skip
    ctx.journal.record_outcome(outcome)
    log.info("created cache rule %s (%s -> %s)", created.id, spec.source, spec.target)
    return Reaction(ReactionStatus.APPLIED, f"created rule {spec.name}", plan, (outcome,))


def _already_served(
    ctx: Context, spec: RuleSpec, rules: list[CacheRule], *, signal_id: str, upstream: Upstream
) -> Reaction | None:
    probe = spec.target if not spec.is_wildcard else TargetPath((*spec.target.prefix, "x"))
    serving = find_serving_rule(probe, rules)
    if serving is None or not (
        serving.target == spec.target or (serving.is_wildcard and not spec.is_wildcard)
    ):
        return None
    message = f"{upstream} is already served by rule {serving.name} ({serving.source} -> {serving.target})"
    ctx.journal.record_outcome(
        Outcome(signal_id, str(serving.id), OutcomeStatus.NO_CHANGE, message, ctx.clock.now())
    )
    return Reaction(ReactionStatus.NO_CHANGE, message)


def request_from_pull_failure(ctx: Context, failure: PullFailure, *, signal_id: str) -> Reaction:
    """A 404 for a repository no rule serves: treat it as a request for that target path."""
    return request_target(ctx, failure.registry, failure.repository, signal_id=signal_id)
