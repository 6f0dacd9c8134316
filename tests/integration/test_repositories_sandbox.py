"""New repositories through the real SDK clients against the sandbox (ARM and ACR's data plane)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from azure.containerregistry import ContainerRegistryClient

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.plans import ActionKind, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath, Upstream
from shared.services import Context, ReactionStatus
from shared.services.policies import explain_request
from shared.services.reactions import dispatch, react
from shared.services.repositories import request_repository
from shared.signals import REPOSITORY_REQUESTS
from shared.signals.pull_failures import PULL_FAILED, PullFailure
from tests.integration.app_context import REGISTRIES, sandbox_context
from tests.integration.conftest import _demo_document

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
FABRIKAM = ResourceId.parse(REGISTRIES["fabrikamcache"])
EXTRA_ROWS = [
    # narrower wildcard under the existing ghcr/acme/* rule: ACR refuses the overlap
    {"id": "ghcr-acme-tools", "upstream": "ghcr.io/acme/tools/*", "action": "allow",
     "targetTemplate": "ghcr/acme/tools/{path}", "ruleKind": "wildcard", "credentialSet": "ghcr-acme",
     "registry": "contosocache"},
    {"id": "quay-coreos", "upstream": "quay.io/coreos/*", "action": "allow",
     "targetTemplate": "quay/coreos/{path}", "ruleKind": "wildcard", "registry": "fabrikamcache"},
]  # fmt: skip


def make_context(sandbox: Sandbox) -> Context:
    rows = [Policy.from_dict(r) for r in [*sandbox.scenario.policies, *EXTRA_ROWS]]
    return sandbox_context(sandbox, policies=MemoryPolicyStore(rows), journal=MemoryJournal())


def journal(ctx: Context) -> MemoryJournal:
    assert isinstance(ctx.journal, MemoryJournal)
    return ctx.journal


def rule_puts(sandbox: Sandbox) -> list[Any]:
    return [w for w in sandbox.log.writes() if "/cacheRules/" in w.path and w.method == "PUT"]


def ask(ctx: Context, registry: ResourceId, upstream: str, *, dry_run: bool = False) -> Any:
    return request_repository(
        ctx, registry, Upstream.parse(upstream), dry_run=dry_run, signal_id="t1"
    )


def test_an_allowed_upstream_gets_exactly_one_templated_rule_and_a_repeat_creates_nothing(
    sandbox: Sandbox,
) -> None:
    ctx = make_context(sandbox)
    first = ask(ctx, FABRIKAM, "docker.io/library/busybox")
    assert first.status is ReactionStatus.APPLIED
    (put,) = rule_puts(sandbox)
    body = json.loads(put.body)["properties"]
    assert body == {
        "sourceRepository": "docker.io/library/busybox",
        "targetRepository": "dockerhub/library/busybox",
        "credentialSetResourceId": f"{REGISTRIES['fabrikamcache']}/credentialSets/dockerhub",
    }
    rule = sandbox.registry("fabrikamcache").cache_rules["dockerhub-library-busybox"]
    assert rule.provisioning_state == "Succeeded"
    (outcome,) = first.outcomes
    assert (outcome.action, outcome.status, outcome.health) == (
        ActionKind.CREATE_CACHE_RULE, OutcomeStatus.SUCCEEDED, "Succeeded",
    )  # fmt: skip
    sandbox.log.clear()
    again = ask(ctx, FABRIKAM, "docker.io/library/busybox")
    assert again.status is ReactionStatus.NO_CHANGE
    assert "already served by rule dockerhub-library-busybox" in again.reason
    assert sandbox.log.writes() == []


def test_an_upstream_under_an_existing_wildcard_rule_is_already_served(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    reaction = ask(ctx, CONTOSO, "docker.io/library/busybox")
    assert reaction.status is ReactionStatus.NO_CHANGE
    assert "dockerhub-library" in reaction.reason
    assert sandbox.log.writes() == []


def test_a_wildcard_row_creates_the_wildcard_rule_once_never_per_repository(
    sandbox: Sandbox,
) -> None:
    ctx = make_context(sandbox)
    statuses = [
        ask(ctx, FABRIKAM, f"quay.io/coreos/{n}").status for n in ("etcd", "flannel", "etcd")
    ]
    assert statuses == [ReactionStatus.APPLIED, ReactionStatus.NO_CHANGE, ReactionStatus.NO_CHANGE]
    (put,) = rule_puts(sandbox)
    assert json.loads(put.body)["properties"] == {
        "sourceRepository": "quay.io/coreos/*", "targetRepository": "quay/coreos/*",
    }  # fmt: skip


def assert_refused(ctx: Context, sandbox: Sandbox, reaction: Any, *words: str) -> None:
    assert reaction.status is ReactionStatus.REJECTED
    assert all(word in reaction.reason for word in words), reaction.reason
    assert sandbox.log.writes() == []
    recorded = journal(ctx)
    assert [o.status for o in recorded.outcome_log] == [OutcomeStatus.REJECTED]
    assert recorded.outcome_log[0].reason == reaction.reason
    (finding,) = [f for _, _, f in recorded.finding_log]
    assert finding.kind == "repository-request-refused"
    assert finding.message == reaction.reason


def test_a_denied_upstream_is_refused_with_the_deciding_row(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    reaction = ask(ctx, FABRIKAM, "docker.io/bitnami/redis")
    assert_refused(ctx, sandbox, reaction, "dockerhub-deny-rest", "denies")


def test_an_overlapping_wildcard_is_refused_before_any_write(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    reaction = ask(ctx, CONTOSO, "ghcr.io/acme/tools/cli")
    assert_refused(ctx, sandbox, reaction, "ghcr/acme/tools/*", "overlaps", "ghcr-acme")


def test_an_existing_target_repository_is_refused_by_arm_and_a_dry_run_finds_it_first(
    sandbox: Sandbox,
) -> None:
    sandbox.add_repository("fabrikamcache", "dockerhub/library/busybox")
    ctx = make_context(sandbox)
    # a dry run reads the data plane to predict the refusal
    planned = ask(ctx, FABRIKAM, "docker.io/library/busybox", dry_run=True)
    assert planned.status is ReactionStatus.REJECTED
    assert "dockerhub/library/busybox already exists" in planned.reason
    looked_up = sandbox.requests_matching(r"^/acr/v1/dockerhub%2Flibrary%2Fbusybox$", plane="acr")
    assert [r.status for r in looked_up if not r.challenge] == [200]
    # the request itself asks ARM, which refuses the PUT: nothing is created, the refusal is the reason
    sandbox.log.clear()
    reaction = ask(ctx, FABRIKAM, "docker.io/library/busybox")
    assert reaction.status is ReactionStatus.REJECTED
    assert "TargetRepositoryAlreadyPresentInRegistry" in reaction.reason
    assert [r.status for r in sandbox.log.writes()] == [409]
    assert all(
        r.target != "dockerhub/library/busybox"
        for r in sandbox.registry("fabrikamcache").cache_rules.values()
    )


def _with_rules(count: int) -> dict[str, Any]:
    doc = copy.deepcopy(_demo_document())
    fabrikam = next(r for r in doc["registries"] if r["name"] == "fabrikamcache")
    extra = count - len(fabrikam["cacheRules"])
    fabrikam["cacheRules"] += [
        {"name": f"mcr-filler-{i:04d}", "source": f"mcr.microsoft.com/filler/r{i}", "target": f"filler/r{i}"}
        for i in range(extra)
    ]  # fmt: skip
    return doc


def test_the_1000_rule_limit_is_refused_before_any_write() -> None:
    sandbox = Sandbox(_with_rules(1000), page_size=1000)
    ctx = make_context(sandbox)
    reaction = ask(ctx, FABRIKAM, "docker.io/library/busybox")
    assert_refused(ctx, sandbox, reaction, "1000 cache rules", "at most 1000")


def test_a_lower_limit_than_acr_documents_becomes_acr_s_refusal_and_creates_nothing() -> None:
    # The product knows ACR's documented limit; a registry that enforces less refuses the PUT,
    # and that refusal is the recorded reason.
    sandbox = Sandbox(_demo_document(), page_size=2, max_cache_rules=2)
    ctx = make_context(sandbox)
    reaction = ask(ctx, FABRIKAM, "docker.io/library/busybox")
    assert reaction.status is ReactionStatus.REJECTED
    assert "ACR refused rule dockerhub-library-busybox" in reaction.reason
    assert "CacheRuleLimitExceeded" in reaction.reason
    assert [w.status for w in rule_puts(sandbox)] == [409]
    assert set(sandbox.registry("fabrikamcache").cache_rules) == {
        "dockerhub-nginx",
        "dockerhub-redis",
    }
    assert [o.status for o in journal(ctx).outcome_log] == [OutcomeStatus.REJECTED]


CASES = [
    (FABRIKAM, "docker.io/library/busybox"),  # would create
    (CONTOSO, "docker.io/library/busybox"),  # already served
    (FABRIKAM, "docker.io/bitnami/redis"),  # denied
    (CONTOSO, "ghcr.io/acme/tools/cli"),  # overlap
    (CONTOSO, "mcr.microsoft.com/dotnet/sdk"),  # would create, no credential set
]
_REAL = {
    ReactionStatus.PLANNED: ReactionStatus.APPLIED,
    ReactionStatus.NO_CHANGE: ReactionStatus.NO_CHANGE,
    ReactionStatus.REJECTED: ReactionStatus.REJECTED,
}


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: answer[k] for k in ("plan", "decision", "rule")}


@pytest.mark.parametrize(("registry", "upstream"), CASES)
def test_policies_test_and_dry_run_answer_what_the_real_request_then_does(
    sandbox: Sandbox, registry: ResourceId, upstream: str
) -> None:
    ctx = make_context(sandbox)
    (tested,) = explain_request(ctx, {"upstream": upstream, "registry": registry.name})["results"]
    dry = ask(ctx, registry, upstream, dry_run=True)
    assert sandbox.log.writes() == []
    assert journal(ctx).outcome_log == []  # a dry run records nothing
    real = ask(ctx, registry, upstream)
    assert tested["status"] == dry.status.value
    assert _REAL[dry.status] is real.status
    assert _comparable(tested) == _comparable(dry.to_dict()) == _comparable(real.to_dict())
    if real.status is not ReactionStatus.APPLIED:
        assert tested["reason"] == dry.reason == real.reason
    assert len(rule_puts(sandbox)) == (1 if real.status is ReactionStatus.APPLIED else 0)


def test_explain_without_a_registry_answers_for_every_managed_registry(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    answer = explain_request(ctx, {"upstream": "docker.io/library/busybox"})
    assert {r["registry"]: r["status"] for r in answer["results"]} == {
        "contosocache": "no-change", "fabrikamcache": "planned",
    }  # fmt: skip


def test_a_404_pull_of_an_unserved_target_is_mapped_back_and_cached(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    failure = PullFailure(FABRIKAM, TargetPath.parse("dockerhub/library/busybox"), 404)
    reaction = dispatch(ctx, PULL_FAILED, failure, signal_id="pull-1")
    assert reaction.status is ReactionStatus.APPLIED
    (put,) = rule_puts(sandbox)
    assert json.loads(put.body)["properties"]["sourceRepository"] == "docker.io/library/busybox"


def test_the_repository_requested_example_event_creates_the_rule(sandbox: Sandbox) -> None:
    from tests.conftest import ROOT

    event = json.loads(
        (ROOT / "docs/events/cachekeeper.RepositoryRequested.example.json").read_text()
    )
    event["data"]["registry"] = REGISTRIES["fabrikamcache"]
    ctx = make_context(sandbox)
    assert react(REPOSITORY_REQUESTS, event, ctx).status is ReactionStatus.APPLIED
    # a redelivery of the same event id is a duplicate (one terminal outcome per event)
    assert react(REPOSITORY_REQUESTS, event, ctx).status is ReactionStatus.DUPLICATE
    assert len(rule_puts(sandbox)) == 1


def test_the_sandbox_catalog_answers_the_real_data_plane_client(sandbox: Sandbox) -> None:
    sandbox.add_repository("contosocache", "apps/new")
    client = ContainerRegistryClient("https://contosocache.azurecr.io", sandbox.credential(),
                                     audience="https://containerregistry.azure.net", transport=sandbox.transport())  # fmt: skip
    with client:
        assert list(client.list_repository_names(results_per_page=2)) == [
            "apps/new", "mcr/azure-cli", "team-a/api", "team-a/worker",
        ]  # fmt: skip
    # the token exchange is a POST, but not a write
    assert sandbox.log.writes() == []
    assert sandbox.requests_matching("^/oauth2/exchange$", plane="acr")
