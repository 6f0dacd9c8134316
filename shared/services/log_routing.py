"""The audit's log-routing check: one read of a registry's diagnostic settings, judged by
shared/domain/log_routing.py."""

from __future__ import annotations

from shared.domain.ids import ResourceId
from shared.domain.log_routing import REPOSITORY_EVENTS, log_routing_findings
from shared.domain.plans import Finding, Severity
from shared.errors import PermanentError
from shared.services.context import Context

__all__ = ["registry_log_routing"]


def registry_log_routing(ctx: Context, registry: ResourceId) -> list[Finding]:
    """Findings about whether the registry's pull logs reach a workspace; nothing when the
    context has no Monitor port. A refused read is a finding, never an audit failure
    (transient errors propagate, as the audit's other reads do)."""
    if ctx.monitor is None:
        return []
    try:
        settings = ctx.monitor.diagnostic_settings(registry)
    except PermanentError as error:
        return [
            Finding(
                "log-routing-unreadable",
                Severity.INFO,
                str(registry),
                f"cannot read the diagnostic settings of {registry.name}, so whether its "
                f"{REPOSITORY_EVENTS} reach the pull-failure alert was not checked: {error}",
                "give the app's identity Microsoft.Insights/diagnosticSettings/read on the "
                "registry (the cachekeeper registry role has it)",
            )
        ]
    return log_routing_findings(registry, settings)
