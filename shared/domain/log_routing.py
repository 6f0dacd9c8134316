"""Whether a registry's resource logs reach the pull-failure alert: its diagnostic settings judged.

ACR collects no resource log until a diagnostic setting routes it, and the pull-failure alert
queries the `ContainerRegistryRepositoryEvents` table of a Log Analytics workspace. A registry
whose settings send that category to no workspace can fail pulls without an alert ever firing.
What is and is not known about the logs themselves is in docs/operations.md ("What the
pull-failure alert assumes") and docs/fidelity.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.domain.ids import ResourceId
from shared.domain.plans import Finding, Severity

__all__ = [
    "ALL_LOGS",
    "REPOSITORY_EVENTS",
    "DiagnosticSetting",
    "LogCategory",
    "log_routing_findings",
]

REPOSITORY_EVENTS = "ContainerRegistryRepositoryEvents"
ALL_LOGS = "allLogs"  # the category group that holds every log category of a resource
_RESOURCE_SPECIFIC = "dedicated"  # logAnalyticsDestinationType of resource-specific tables

_FIX = (
    "add a diagnostic setting on the registry that sends the ContainerRegistryRepositoryEvents "
    "category to the alert's Log Analytics workspace in resource-specific mode "
    "(infra/app/registry.bicep does), or publish cachekeeper.PullFailed events "
    "(docs/events/README.md)"
)


@dataclass(frozen=True, slots=True)
class LogCategory:
    """One entry of a setting's `logs`: a category or a category group, on or off."""

    category: str | None
    category_group: str | None = None
    enabled: bool = True

    def names(self, category: str) -> bool:
        return self.enabled and (self.category or "").lower() == category.lower()

    def names_all(self) -> bool:
        return self.enabled and (self.category_group or "").lower() == ALL_LOGS.lower()

    def names_another_group(self) -> bool:
        return self.enabled and bool(self.category_group) and not self.names_all()


@dataclass(frozen=True, slots=True)
class DiagnosticSetting:
    """A diagnostic setting of a resource (Microsoft.Insights/diagnosticSettings)."""

    name: str
    workspace_id: str | None
    logs: tuple[LogCategory, ...] = ()
    destination_type: str | None = None  # "Dedicated": resource-specific tables
    other_destinations: tuple[str, ...] = ()  # storage account, event hub, partner: ids or names

    def sends(self, category: str) -> bool:
        """Whether this setting sends `category` anywhere (workspace or not)."""
        return any(log.names(category) or log.names_all() for log in self.logs)

    def to_workspace(self, category: str) -> bool:
        return bool(self.workspace_id) and self.sends(category)

    def resource_specific(self) -> bool:
        return (self.destination_type or "").lower() == _RESOURCE_SPECIFIC


def log_routing_findings(
    registry: ResourceId, settings: Sequence[DiagnosticSetting]
) -> list[Finding]:
    """Nothing when a setting sends ContainerRegistryRepositoryEvents to a workspace's
    resource-specific table; `log-routing-unverified` (info) when it may (AzureDiagnostics mode,
    or only a category group other than allLogs); `log-routing-missing` (warning) otherwise."""
    resource = str(registry)
    names = sorted(s.name for s in settings)
    routed = [s for s in settings if s.to_workspace(REPOSITORY_EVENTS)]
    if any(s.resource_specific() for s in routed):
        return []
    if routed:
        return [
            Finding(
                "log-routing-unverified",
                Severity.INFO,
                resource,
                f"diagnostic setting {routed[0].name!r} of {registry.name} sends "
                f"{REPOSITORY_EVENTS} to a workspace in AzureDiagnostics mode; the pull-failure "
                f"alert queries the {REPOSITORY_EVENTS} table, which that mode may not fill",
                "set logAnalyticsDestinationType to Dedicated on that setting",
                {"diagnosticSettings": names},
            )
        ]
    grouped = [
        s for s in settings if s.workspace_id and any(g.names_another_group() for g in s.logs)
    ]
    if grouped:
        groups = sorted(
            {g.category_group or "" for s in grouped for g in s.logs if g.category_group}
        )
        return [
            Finding(
                "log-routing-unverified",
                Severity.INFO,
                resource,
                f"diagnostic setting {grouped[0].name!r} of {registry.name} sends category "
                f"group(s) {', '.join(groups)} to a workspace; whether they hold "
                f"{REPOSITORY_EVENTS} is not documented",
                f"name the {REPOSITORY_EVENTS} category (or the allLogs group) in the setting",
                {"diagnosticSettings": names, "categoryGroups": groups},
            )
        ]
    elsewhere = sorted(s.name for s in settings if s.sends(REPOSITORY_EVENTS))
    where = (
        f" (diagnostic setting(s) {', '.join(elsewhere)} send it, but to no Log Analytics workspace)"
        if elsewhere
        else ""
    )
    return [
        Finding(
            "log-routing-missing",
            Severity.WARNING,
            resource,
            f"no diagnostic setting of {registry.name} sends {REPOSITORY_EVENTS} to a Log "
            f"Analytics workspace{where}: failed pulls from it can never fire the pull-failure alert",
            _FIX,
            {"diagnosticSettings": names},
        )
    ]
