"""Judging a registry's diagnostic settings (shared/domain/log_routing.py), the Monitor port's
memory fake, and the audit's one read per registry (shared/services/log_routing.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.adapters.azure.monitor import diagnostic_setting_from_json
from shared.adapters.memory import MemoryMonitor
from shared.domain.log_routing import (
    REPOSITORY_EVENTS,
    DiagnosticSetting,
    LogCategory,
    log_routing_findings,
)
from shared.domain.plans import Severity
from shared.errors import AccessDeniedError, NotFoundError
from shared.services.audit import run_audit
from shared.services.log_routing import registry_log_routing
from tests.fakes import CONTOSO, FABRIKAM, make_world

WORKSPACE = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w"
)
EVENTS = LogCategory(REPOSITORY_EVENTS)
ROUTED = DiagnosticSetting("cachekeeper", WORKSPACE, (EVENTS,), "Dedicated")


def kinds(settings: list[DiagnosticSetting]) -> list[tuple[str, Severity]]:
    return [(f.kind, f.severity) for f in log_routing_findings(CONTOSO, settings)]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ([ROUTED], []),
        ([replace(ROUTED, logs=(LogCategory(None, "allLogs"),))], []),
        ([replace(ROUTED, logs=(LogCategory(REPOSITORY_EVENTS.lower()),))], []),  # ARM ignores case
        ([], [("log-routing-missing", Severity.WARNING)]),
        ([replace(ROUTED, workspace_id=None, other_destinations=("storageAccountId",))], [("log-routing-missing", Severity.WARNING)]),
        ([replace(ROUTED, logs=(LogCategory(REPOSITORY_EVENTS, enabled=False),))], [("log-routing-missing", Severity.WARNING)]),
        ([replace(ROUTED, logs=(LogCategory("ContainerRegistryLoginEvents"),))], [("log-routing-missing", Severity.WARNING)]),
        ([replace(ROUTED, destination_type=None)], [("log-routing-unverified", Severity.INFO)]),
        ([replace(ROUTED, logs=(LogCategory(None, "audit"),))], [("log-routing-unverified", Severity.INFO)]),
        ([replace(ROUTED, destination_type=None), replace(ROUTED, name="second")], []),
    ],
    ids=["category", "all-logs", "case", "none", "storage-only", "disabled", "other-category",
         "azure-diagnostics-mode", "audit-group", "one-of-two-is-enough"],
)  # fmt: skip
def test_a_registry_s_settings_are_judged_by_where_its_repository_events_go(
    settings: list[DiagnosticSetting], expected: list[tuple[str, Severity]]
) -> None:
    assert kinds(settings) == expected


def test_a_missing_route_names_the_settings_that_send_the_logs_elsewhere() -> None:
    elsewhere = replace(ROUTED, name="to-storage", workspace_id=None)
    (finding,) = log_routing_findings(CONTOSO, [elsewhere])
    assert "to-storage" in finding.message and finding.resource == str(CONTOSO)
    assert finding.evidence == {"diagnosticSettings": ["to-storage"]}


def test_arm_json_is_read_defensively() -> None:
    setting = diagnostic_setting_from_json(
        {
            "name": "x",
            "properties": {
                "workspaceId": WORKSPACE,
                "storageAccountId": "/s",
                "logAnalyticsDestinationType": "Dedicated",
                "logs": [
                    {"category": REPOSITORY_EVENTS, "enabled": True},
                    "junk",
                    {"enabled": "yes"},
                ],
            },
        }
    )
    assert setting.to_workspace(REPOSITORY_EVENTS) and setting.resource_specific()
    assert setting.other_destinations == ("storageAccountId",)
    assert len(setting.logs) == 2 and not setting.logs[1].enabled  # "yes" is not true
    assert diagnostic_setting_from_json({"properties": None}).logs == ()
    # the spec's list example sends allLogs to storage and an event hub, with an empty workspaceId
    elsewhere = diagnostic_setting_from_json(
        {"name": "mysetting", "properties": {"storageAccountId": "/s", "eventHubAuthorizationRuleId": "/e",
                                             "workspaceId": "", "logs": [{"categoryGroup": "allLogs", "enabled": True}]}}
    )  # fmt: skip
    assert elsewhere.sends(REPOSITORY_EVENTS) and not elsewhere.to_workspace(REPOSITORY_EVENTS)
    assert [f.kind for f in log_routing_findings(CONTOSO, [elsewhere])] == ["log-routing-missing"]


def test_the_memory_fake_answers_as_arm_does() -> None:
    monitor = MemoryMonitor()
    with pytest.raises(NotFoundError):
        monitor.diagnostic_settings(CONTOSO)
    monitor.add_resource(CONTOSO)
    assert monitor.diagnostic_settings(CONTOSO) == []
    monitor.put_setting(CONTOSO, ROUTED)
    monitor.put_setting(CONTOSO, replace(ROUTED, name="CacheKeeper", workspace_id=None))
    (kept,) = monitor.diagnostic_settings(CONTOSO)  # names are case-insensitive: replaced
    assert kept.workspace_id is None
    monitor.delete_setting(CONTOSO, "CACHEKEEPER")
    monitor.delete_setting(CONTOSO, "not-there")
    assert monitor.diagnostic_settings(CONTOSO) == []
    monitor.deny(CONTOSO)
    with pytest.raises(AccessDeniedError):
        monitor.diagnostic_settings(CONTOSO)
    assert monitor.calls == 5


def test_a_refused_read_is_a_finding_and_no_monitor_means_no_check() -> None:
    world = make_world()
    assert registry_log_routing(world.ctx, CONTOSO) == []  # the context has no Monitor port
    monitor = MemoryMonitor()
    monitor.deny(CONTOSO)
    ctx = replace(world.ctx, monitor=monitor)
    (finding,) = registry_log_routing(ctx, CONTOSO)
    assert (finding.kind, finding.severity) == ("log-routing-unreadable", Severity.INFO)
    assert "diagnosticSettings/read" in (finding.fix or "")


def test_the_audit_reads_each_registry_once_and_reports_the_unrouted_one() -> None:
    world = make_world()
    monitor = MemoryMonitor()
    monitor.put_setting(CONTOSO, ROUTED)
    monitor.add_resource(FABRIKAM)
    report = run_audit(replace(world.ctx, monitor=monitor), reconcile=False)
    routing = [f for f in report.findings if f.kind.startswith("log-routing")]
    assert [(f.kind, f.resource) for f in routing] == [("log-routing-missing", str(FABRIKAM))]
    assert monitor.calls == 2
