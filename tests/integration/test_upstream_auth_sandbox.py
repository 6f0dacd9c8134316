"""Which upstreams need credentials (shared/domain/upstreams.py), through the product over the
sandbox: policy validation, the new-rule checks under each answer of the sandbox's
`enforce_auth_only_upstreams` option, and credential sets made for another login server."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.ids import ResourceId
from shared.domain.policies import Policy, PolicyAction, RuleKind
from shared.domain.repositories import Upstream
from shared.errors import InvalidPolicyError
from shared.services import Context, ReactionStatus
from shared.services.audit import run_audit
from shared.services.policies import put_policy
from shared.services.repositories import request_repository
from tests.integration.app_context import REGISTRIES, sandbox_context

CONTOSO = ResourceId.parse(REGISTRIES["contosocache"])
FABRIKAM = ResourceId.parse(REGISTRIES["fabrikamcache"])


def make_context(sandbox: Sandbox, *extra: Policy) -> Context:
    rows = [Policy.from_dict(r) for r in sandbox.scenario.policies]
    return sandbox_context(
        sandbox, policies=MemoryPolicyStore([*rows, *extra]), journal=MemoryJournal()
    )


def rule_puts(sandbox: Sandbox) -> list[Any]:
    return [w for w in sandbox.log.writes() if "/cacheRules/" in w.path and w.method == "PUT"]


def legacy_row(row_id: str, upstream: str, template: str, credential_set: str | None) -> Policy:
    """A row written before the support table knew its upstream (not validated again)."""
    return Policy(row_id, Upstream.parse(upstream, allow_wildcard=True), PolicyAction.ALLOW,
                  target_template=template, rule_kind=RuleKind.STATIC, credential_set=credential_set)  # fmt: skip


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ({"upstream": "mcr.microsoft.com/dotnet/*", "credentialSet": "dockerhub"},
         ("unauthenticated pulls", "remove credentialSet")),
        ({"upstream": "dhi.io/*"}, ("authenticated pulls", "set credentialSet")),
        ({"upstream": "europe-docker.pkg.dev/acme/*"}, ("Google Artifact Registry", "set credentialSet")),
        ({"upstream": "registry.access.redhat.com/ubi9/*", "credentialSet": "dockerhub"},
         ("unauthenticated pulls",)),
        ({"upstream": "other.azurecr.io/base/*", "credentialSet": "dockerhub"}, ("managed identity",)),
    ],
)  # fmt: skip
def test_a_row_whose_credentials_do_not_fit_the_upstream_is_refused(
    sandbox: Sandbox, row: dict[str, Any], words: tuple[str, ...]
) -> None:
    ctx = make_context(sandbox)
    body = {"action": "allow", "targetTemplate": "up/{path}", **row}
    with pytest.raises(InvalidPolicyError) as info:
        put_policy(ctx, "new-row", body)
    assert info.value.http_status == 400
    assert all(w in str(info.value) for w in words), str(info.value)
    assert "new-row" not in [p.policy.id for p in ctx.policies.list_policies()]


def test_an_unknown_upstream_is_allowed_either_way_and_noted(sandbox: Sandbox) -> None:
    ctx = make_context(sandbox)
    for row_id, credential_set in (("example-anon", None), ("example-auth", "dockerhub")):
        body = {"action": "allow", "upstream": "registry.example.com/tools/*",
                "targetTemplate": "example/{path}", "credentialSet": credential_set}  # fmt: skip
        stored, warnings = put_policy(ctx, row_id, body)
        assert stored.policy.id == row_id
        assert any("registry.example.com is not in" in w for w in warnings), warnings
    known, warnings = put_policy(ctx, "ghcr-anon", {
        "action": "allow", "upstream": "ghcr.io/public/*", "targetTemplate": "ghcr/public/{path}"})  # fmt: skip
    assert known.policy.id == "ghcr-anon" and warnings == []


@pytest.mark.parametrize("enforced", [True, False])
def test_an_auth_only_upstream_without_credentials_is_refused_before_any_write(
    sandbox: Sandbox, enforced: bool
) -> None:
    # whether ACR itself refuses dhi.io without credentials is not documented: either way the
    # product refuses before the PUT, so nothing depends on ACR's answer
    sandbox.options.enforce_auth_only_upstreams = enforced
    ctx = make_context(sandbox, legacy_row("dhi-all", "dhi.io/*", "dhi/{path}", None))
    reaction = request_repository(ctx, FABRIKAM, Upstream.parse("dhi.io/python"), signal_id="r1")
    assert reaction.status is ReactionStatus.REJECTED
    assert "only allows authenticated pulls" in reaction.reason
    assert rule_puts(sandbox) == []


def test_an_anonymous_only_upstream_with_a_credential_set_is_refused_before_any_write(
    sandbox: Sandbox,
) -> None:
    ctx = make_context(
        sandbox, legacy_row("ecr-all", "public.ecr.aws/*", "ecr/{path}", "dockerhub")
    )
    reaction = request_repository(
        ctx, FABRIKAM, Upstream.parse("public.ecr.aws/nginx/nginx"), signal_id="r1"
    )
    assert reaction.status is ReactionStatus.REJECTED
    assert "only allows unauthenticated pulls" in reaction.reason
    assert rule_puts(sandbox) == []


def test_a_credential_set_for_another_login_server_is_warned_about_on_request_and_in_the_audit(
    sandbox: Sandbox,
) -> None:
    # quay-io's loginServer is quay.io; a GHCR rule using it sends quay's secrets to ghcr.io
    row = Policy.from_dict({"id": "ghcr-other", "upstream": "ghcr.io/other/*", "action": "allow",
                            "targetTemplate": "ghcr/other/{path}", "credentialSet": "quay-io",
                            "registry": "contosocache"})  # fmt: skip
    ctx = make_context(sandbox, row)
    reaction = request_repository(
        ctx, CONTOSO, Upstream.parse("ghcr.io/other/tool"), signal_id="r1"
    )
    assert reaction.status is ReactionStatus.APPLIED  # a warning, not a refusal
    (warning,) = [f for f in reaction.plan.findings if f.kind == "credential-set-login-server"]
    assert "quay.io" in warning.message and "ghcr.io" in warning.message
    assert isinstance(ctx.journal, MemoryJournal)
    assert [f.kind for _, _, f in ctx.journal.finding_log] == ["credential-set-login-server"]
    report = run_audit(ctx, reconcile=False)
    (found,) = [f for f in report.findings if f.kind == "credential-set-login-server"]
    assert found.resource.endswith("/cacheRules/ghcr-other-tool")
    assert found.evidence == {"loginServer": "quay.io", "upstream": "ghcr.io"}
