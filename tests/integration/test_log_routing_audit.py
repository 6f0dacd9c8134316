"""The audit reports a managed registry whose resource logs cannot reach the pull-failure alert
(no diagnostic setting sending ContainerRegistryRepositoryEvents to a Log Analytics workspace),
read through ARM from the sandbox with the real SDK client."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox import Sandbox
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore
from shared.domain.plans import Finding, Severity
from shared.domain.policies import Policy
from shared.services import Context
from shared.services.audit import run_audit
from tests.integration.app_context import REGISTRIES, demo_settings, sandbox_context
from tests.integration.conftest import _demo_document

LOGGED = ("log-routing-missing", "log-routing-unverified", "log-routing-unreadable")
UNLOGGED = REGISTRIES["contosocache"].replace("contosocache", "unloggedcache")


def context(sandbox: Sandbox, registries: list[str] | None = None) -> Context:
    policies = MemoryPolicyStore([Policy.from_dict(p) for p in sandbox.scenario.policies])
    settings = demo_settings(MANAGED_REGISTRIES=",".join(registries or REGISTRIES.values()))
    return sandbox_context(sandbox, settings=settings, policies=policies, journal=MemoryJournal())


def routing(ctx: Context) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in run_audit(ctx, reconcile=False).findings:
        if finding.kind in LOGGED:
            found.setdefault(finding.resource.rsplit("/", 1)[-1], []).append(finding)
    return found


def with_unlogged_registry() -> dict[str, Any]:
    """The demo plus a registry with no diagnostic setting (Azure's default)."""
    doc = copy.deepcopy(_demo_document())
    doc["registries"].append({"name": "unloggedcache", "resourceGroup": "rg-cache"})
    return doc


def test_the_demo_registries_route_their_logs_and_a_registry_without_a_setting_is_reported() -> (
    None
):
    sandbox = Sandbox(with_unlogged_registry(), page_size=2)
    found = routing(context(sandbox, [*REGISTRIES.values(), UNLOGGED]))
    assert list(found) == ["unloggedcache"]
    (finding,) = found["unloggedcache"]
    assert (finding.kind, finding.severity) == ("log-routing-missing", Severity.WARNING)
    assert "ContainerRegistryRepositoryEvents" in finding.message
    assert finding.fix is not None and "cachekeeper.PullFailed" in finding.fix
    assert sandbox.log.writes() == []
    reads = sandbox.requests_matching(r"/diagnosticSettings$", method="GET")
    assert len(reads) == 3  # one read per registry
    assert {r.query["api-version"] for r in reads} == {"2021-05-01-preview"}


def test_removing_the_setting_is_found_by_the_next_audit(sandbox: Sandbox) -> None:
    ctx = context(sandbox)
    assert routing(ctx) == {}
    assert sandbox.remove_diagnostic_setting("fabrikamcache")
    assert [f.kind for f in routing(ctx)["fabrikamcache"]] == ["log-routing-missing"]
    sandbox.set_diagnostic_setting("fabrikamcache", workspace_id="/subscriptions/x/workspaces/y")
    assert routing(ctx) == {}


@pytest.mark.parametrize(
    ("properties", "kind"),
    [
        ({"storageAccountId": "/s", "logs": [{"category": "ContainerRegistryRepositoryEvents", "enabled": True}]}, "log-routing-missing"),
        ({"workspaceId": "/w", "logs": [{"category": "ContainerRegistryRepositoryEvents", "enabled": False}]}, "log-routing-missing"),
        ({"workspaceId": "/w", "logs": [{"category": "ContainerRegistryLoginEvents", "enabled": True}]}, "log-routing-missing"),
        ({"workspaceId": "/w", "logs": [{"category": "ContainerRegistryRepositoryEvents", "enabled": True}]}, "log-routing-unverified"),
        ({"workspaceId": "/w", "logs": [{"categoryGroup": "audit", "enabled": True}]}, "log-routing-unverified"),
        ({"workspaceId": "/w", "logAnalyticsDestinationType": "Dedicated", "logs": [{"categoryGroup": "allLogs", "enabled": True}]}, None),
    ],
    ids=["storage-only", "disabled", "other-category", "azure-diagnostics-mode", "audit-group", "all-logs"],
)  # fmt: skip
def test_what_a_setting_routes_decides_the_finding(
    sandbox: Sandbox, properties: dict[str, Any], kind: str | None
) -> None:
    sandbox.remove_diagnostic_setting("fabrikamcache")
    sandbox.set_diagnostic_setting("fabrikamcache", "other", properties=properties)
    found = routing(context(sandbox))
    assert [f.kind for f in found.get("fabrikamcache", [])] == ([kind] if kind else [])
    assert "contosocache" not in found
