"""Wildcard cache rules over existing repositories, through the product over the sandbox.

ACR refuses a wildcard rule whose target prefix already holds a repository (409
TargetRepositoryPrefixMatchesExistingRegistries, docs/fidelity.md). The product lists the catalog
before planning one, names the repositories in the way, and does not ask ARM again for a create
it refused until what the refusal depended on changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import Upstream
from shared.services import Context, ReactionStatus
from shared.services.audit import run_audit
from shared.services.repositories import request_repository
from tests.integration.app_context import REGISTRIES, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
# contosocache holds team-a/api and team-a/worker (demo scenario): team-a/* is blocked
TEAM_A = {"id": "ghcr-team-a", "upstream": "ghcr.io/team-a/*", "action": "allow",
          "targetTemplate": "team-a/{path}", "ruleKind": "wildcard", "registry": "contosocache"}  # fmt: skip
RULE = "team-a-all"


def make_context(sandbox: Sandbox, journal: MemoryJournal | None = None) -> Context:
    rows = [Policy.from_dict(r) for r in [*sandbox.scenario.policies, TEAM_A]]
    return sandbox_context(
        sandbox, policies=MemoryPolicyStore(rows), journal=journal or MemoryJournal()
    )


def rule_puts(sandbox: Sandbox) -> list[Any]:
    return [
        w for w in sandbox.log.writes() if f"/cacheRules/{RULE}" in w.path and w.method == "PUT"
    ]


def creates(report: Any) -> list[str]:
    return [
        a.resource.rsplit("/", 1)[-1]
        for a in report.plan.actions
        if a.kind is ActionKind.CREATE_CACHE_RULE
    ]


def by_kind(report: Any, kind: str) -> list[Any]:
    return [f for f in report.findings if f.kind == kind and f.resource.endswith(RULE)]


def test_the_audit_names_the_repositories_that_block_a_wildcard_and_plans_no_create(
    sandbox: Sandbox,
) -> None:
    ctx = make_context(sandbox)
    for _ in range(2):  # AUTO_RECONCILE runs: neither asks ARM for the doomed rule
        report = run_audit(ctx, reconcile=True)
        assert RULE not in creates(report)
        (blocked,) = by_kind(report, "wildcard-rule-blocked")
        assert blocked.evidence["blockingRepositories"] == ["team-a/api", "team-a/worker"]
        assert "team-a/api" in blocked.message
        assert by_kind(report, "missing-rule") == []
    assert rule_puts(sandbox) == []
    # once the repositories are gone, the rule is planned and ARM accepts it
    sandbox.registry("contosocache").repositories -= {"team-a/api", "team-a/worker"}
    report = run_audit(ctx, reconcile=True)
    assert RULE in creates(report)
    assert len(rule_puts(sandbox)) == 1
    assert sandbox.registry("contosocache").cache_rules[RULE].target == "team-a/*"


def test_a_request_under_a_blocked_wildcard_is_refused_with_the_blockers_before_any_write(
    sandbox: Sandbox,
) -> None:
    ctx = make_context(sandbox)
    reaction = request_repository(
        ctx, CONTOSO, Upstream.parse("ghcr.io/team-a/tool"), signal_id="r1"
    )
    assert reaction.status is ReactionStatus.REJECTED
    for word in ("team-a/*", "team-a/api", "team-a/worker", "prefix"):
        assert word in reaction.reason, reaction.reason
    assert sandbox.log.writes() == []


@pytest.mark.parametrize("in_lro", [False, True])  # ACR refuses on the PUT, or the LRO fails
def test_a_refused_create_is_not_planned_again_until_the_state_it_was_refused_for_changes(
    sandbox: Sandbox, in_lro: bool
) -> None:
    # The app cannot read the catalog (no data-plane permission): only ARM can say no.
    sandbox.options.prefix_refusal_in_lro = in_lro
    sandbox.faults.rate("403", 1.0, pattern="_catalog", host="contosocache.azurecr.io")
    journal = MemoryJournal()
    ctx = make_context(sandbox, journal)
    first = run_audit(ctx, reconcile=True)
    assert RULE in creates(first)
    (failed,) = [o for o in first.outcomes if o.resource.endswith(RULE)]
    assert failed.status is OutcomeStatus.FAILED
    assert "TargetRepositoryPrefixMatchesExistingRegistries" in failed.reason
    (remembered,) = journal.refusals(str(CONTOSO))
    assert remembered.rule.endswith(RULE)
    for _ in range(2):  # same state: no create, and the refusal is reported instead
        again = run_audit(ctx, reconcile=True)
        assert RULE not in creates(again)
        (refused,) = by_kind(again, "wildcard-rule-refused")
        assert "TargetRepositoryPrefixMatchesExistingRegistries" in refused.message
    assert len(rule_puts(sandbox)) == 1
    # the catalog becomes readable: the state moved, and now the blockers are named
    sandbox.faults.clear()
    readable = run_audit(ctx, reconcile=True)
    assert RULE not in creates(readable)
    (blocked,) = by_kind(readable, "wildcard-rule-blocked")
    assert blocked.evidence["blockingRepositories"] == ["team-a/api", "team-a/worker"]
    assert len(rule_puts(sandbox)) == 1


@pytest.mark.parametrize("in_lro", [False, True])
def test_a_request_refused_by_arm_is_remembered_and_not_sent_again(
    sandbox: Sandbox, in_lro: bool
) -> None:
    sandbox.options.prefix_refusal_in_lro = in_lro
    sandbox.faults.rate("403", 1.0, pattern="_catalog", host="contosocache.azurecr.io")
    ctx = make_context(sandbox)
    upstream = Upstream.parse("ghcr.io/team-a/tool")
    first = request_repository(ctx, CONTOSO, upstream, signal_id="r1")
    assert first.status is ReactionStatus.REJECTED
    assert "TargetRepositoryPrefixMatchesExistingRegistries" in first.reason
    second = request_repository(ctx, CONTOSO, upstream, signal_id="r2")
    assert second.status is ReactionStatus.REJECTED
    assert "ARM refused it at" in second.reason
    assert len(rule_puts(sandbox)) == 1
