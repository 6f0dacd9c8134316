"""ACR's own events about a managed registry's repositories: ImagePushed and ImageDeleted.

A push into a namespace that a policy row reserves for cached content (its targetTemplate maps
the repository back to an upstream the row allows) while no cache rule serves it is a finding:
ACR refuses a cache rule whose target repository already exists, so the future rule would fail.
"""

from __future__ import annotations

from shared.domain.cache_rules import find_serving_rule
from shared.domain.plans import Finding, OutcomeStatus, Plan, Severity
from shared.domain.policy_targets import upstream_for_target
from shared.services.context import Context
from shared.services.records import record_findings, record_signal
from shared.services.results import Reaction, ReactionStatus
from shared.signals.registry import RegistryEventKind, RegistryImageEvent

__all__ = ["assess_image_event"]


def assess_image_event(ctx: Context, signal: RegistryImageEvent, signal_id: str) -> Reaction:
    """Judge a push (or deletion) against the policy table's reserved namespaces."""
    where = f"{signal.registry.name}/{signal.repository}"
    policies = [p.policy for p in ctx.policies.list_policies()]
    upstream = upstream_for_target(signal.repository, policies, registry=signal.registry.name)
    verb = "pushed to" if signal.kind is RegistryEventKind.IMAGE_PUSHED else "deleted from"
    if upstream is None or signal.kind is RegistryEventKind.IMAGE_DELETED:
        reason = f"image {verb} {where}" + (
            "" if upstream is None else f", reserved for {upstream}"
        )
        record_signal(ctx, signal_id, where, OutcomeStatus.NO_CHANGE, reason)
        return Reaction(ReactionStatus.NO_CHANGE, reason)
    rule = find_serving_rule(signal.repository, ctx.registry.list_cache_rules(signal.registry))
    if rule is not None:
        # The namespace already belongs to a cache rule: this is cached content, not a blocker.
        reason = f"{where} is served by cache rule {rule.name}; the push is cached content"
        record_signal(ctx, signal_id, where, OutcomeStatus.NO_CHANGE, reason)
        return Reaction(ReactionStatus.NO_CHANGE, reason)
    finding = Finding(
        "push-into-reserved-namespace", Severity.WARNING, where,
        f"an image was pushed to {where}, which the policy table reserves for cached {upstream}; "
        f"a cache rule for {upstream} will now fail because its target repository exists",
        f"push to another repository and delete {signal.repository}, or change the policy row's targetTemplate",
        {"tag": signal.tag, "digest": signal.digest, "upstream": str(upstream)},
    )  # fmt: skip
    record_findings(ctx, [finding], signal_id=signal_id)
    record_signal(ctx, signal_id, where, OutcomeStatus.NO_CHANGE, finding.message)
    return Reaction(ReactionStatus.REPORTED, finding.message, Plan(where, (), (finding,)))
