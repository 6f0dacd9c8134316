"""The audit over the demo scenario, through the real SDK clients against the sandbox."""

from __future__ import annotations

from collections import Counter

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.policies import Policy
from shared.services import Context
from shared.services.audit import run_audit
from tests.integration.app_context import VAULTS, demo_settings, sandbox_context


def context(sandbox: Sandbox, **settings: str) -> Context:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    ctx = sandbox_context(
        sandbox, settings=demo_settings(**settings), policies=policies, journal=MemoryJournal()
    )
    from dataclasses import replace

    return replace(ctx, reports=MemoryReportStore())


def kinds(report: object) -> Counter[tuple[str, str]]:
    return Counter((f.kind, f.resource.rsplit("/", 1)[-1]) for f in report.findings)  # type: ignore[attr-defined]


def test_the_audit_finds_each_seeded_problem_and_nothing_else(sandbox: Sandbox) -> None:
    report = run_audit(context(sandbox), reconcile=False)
    found = kinds(report)
    assert found[("access-denied", "quay-io")] == 2
    assert found[("unhealthy-credential-set", "quay-io")] == 1
    assert found[("credential-set-behind", "ghcr-acme")] == 1
    assert found[("secret-expiry", "quay-password")] == 1
    assert found[("unmanaged-rule", "quay-prometheus")] == 1
    assert found[("squatted-target", "azure-cli")] == 1  # contosocache/mcr/azure-cli
    expected = {("access-denied", "quay-io"), ("unhealthy-credential-set", "quay-io"), ("credential-set-behind", "ghcr-acme"),
                ("secret-expiry", "quay-password"), ("unmanaged-rule", "quay-prometheus"), ("squatted-target", "azure-cli")}  # fmt: skip
    assert set(found) == expected
    assert sandbox.log.writes() == []
    # report mode: the safe fix is the repin; no grant, and no refresh of quay-io: it is
    # Unhealthy because its identity is denied access, which a refresh cannot change
    planned = sorted((a.kind.value, a.resource.rsplit("/", 1)[-1]) for a in report.plan.actions)
    assert planned == [("update-credential-set", "ghcr-acme")]


@pytest.mark.instant_azure  # with Azure's delays: test_verification_sandbox.py
def test_auto_reconcile_fixes_what_it_can_and_the_next_audit_is_clean_of_it(
    sandbox: Sandbox,
) -> None:
    ctx = context(sandbox, REMEDIATION_MODE="fix")
    first = run_audit(ctx, reconcile=True)
    assert first.counts["applied"] == first.counts["actions"] >= 4  # 2 grants, a refresh, the repin
    second = run_audit(ctx, reconcile=False)
    remaining = set(kinds(second))
    assert remaining == {
        ("secret-expiry", "quay-password"),
        ("unmanaged-rule", "quay-prometheus"),
        ("squatted-target", "azure-cli"),
    }
    assert second.counts["actions"] == 0
    assert sandbox.health("contosocache", "quay-io").status == "Healthy"


def test_reports_are_kept_and_the_latest_is_retrievable(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    first = run_audit(ctx, reconcile=False)
    sandbox.clock.advance(60)
    second = run_audit(ctx, reconcile=False)
    assert ctx.reports is not None
    assert ctx.reports.latest_report()["id"] == second.id  # type: ignore[index]
    assert ctx.reports.get_report(first.id)["counts"] == first.to_dict()["counts"]


@pytest.mark.parametrize("registry", ["contosocache", "fabrikamcache"])
def test_an_audit_of_one_registry_reads_only_that_registry(sandbox: Sandbox, registry: str) -> None:
    ctx = context(sandbox)
    target = ctx.managed_registry(registry)
    run_audit(ctx, registries=[target], reconcile=False)
    other = "fabrikamcache" if registry == "contosocache" else "contosocache"
    assert not any(f"/registries/{other}/" in r.path for r in sandbox.log.all())


def test_every_allow_listed_vault_is_read_from_the_start_and_an_unused_one_cannot_fail_it(
    sandbox: Sandbox,
) -> None:
    """The vaults' reads start with the audit, before any credential set names them (their
    role-assignment lists are its longest chain): an allow-listed vault that no credential set
    reads, here one that does not exist, costs its read and changes nothing else."""
    missing = next(iter(VAULTS.values())).rsplit("/", 1)[0] + "/kv-not-there"
    ctx = context(sandbox, VAULT_ALLOWLIST=",".join([*VAULTS.values(), missing]))
    report = run_audit(ctx, reconcile=False)

    assert set(kinds(report)) == set(kinds(run_audit(context(sandbox), reconcile=False)))
    vault_reads = [r for r in sandbox.log.all() if r.path.lower().endswith("/vaults/kv-not-there")]
    assert vault_reads and all(r.status == 404 for r in vault_reads)
