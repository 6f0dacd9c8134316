"""Diagnostic settings through ARM (the Monitor port).

`GET {resource}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview`,
sent with the ACR management client's public `send_request` (same credential, pipeline and
retries as every other ARM call): azure-mgmt-monitor 7.0.0, the current release, has no
diagnostic-settings operations. The list is not paged (`{"value": [...]}`, no nextLink).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.adapters.azure.clients import AzureClients
from shared.adapters.azure.errors import translate_errors
from shared.domain.ids import ResourceId
from shared.domain.log_routing import DiagnosticSetting, LogCategory
from shared.errors import InvalidInputError, UpstreamUnavailableError

__all__ = ["API_VERSION", "AzureMonitor", "diagnostic_setting_from_json"]

API_VERSION = "2021-05-01-preview"
_OTHER_DESTINATIONS = (
    "storageAccountId",
    "eventHubAuthorizationRuleId",
    "serviceBusRuleId",
    "marketplacePartnerId",
)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def diagnostic_setting_from_json(item: Mapping[str, Any]) -> DiagnosticSetting:
    """One `DiagnosticSettingsResource` as ARM returns it."""
    raw_props = item.get("properties")
    props: Mapping[str, Any] = raw_props if isinstance(raw_props, Mapping) else {}
    raw_logs = props.get("logs")
    logs: list[Any] = raw_logs if isinstance(raw_logs, list) else []
    return DiagnosticSetting(
        name=str(item.get("name") or ""),
        workspace_id=_text(props.get("workspaceId")),
        logs=tuple(
            LogCategory(
                _text(log.get("category")),
                _text(log.get("categoryGroup")),
                log.get("enabled") is True,
            )
            for log in logs
            if isinstance(log, Mapping)
        ),
        destination_type=_text(props.get("logAnalyticsDestinationType")),
        other_destinations=tuple(k for k in _OTHER_DESTINATIONS if _text(props.get(k))),
    )


class AzureMonitor:
    """Implements the Monitor port over ARM."""

    def __init__(self, clients: AzureClients) -> None:
        self._clients = clients

    def diagnostic_settings(self, resource: ResourceId) -> list[DiagnosticSetting]:
        from azure.core.rest import HttpRequest

        subscription = resource.subscription_id
        if subscription is None:
            raise InvalidInputError(f"{resource} is not a resource in a subscription")
        client = self._clients.container_registry(subscription)
        request = HttpRequest(
            "GET",
            f"{resource}/providers/Microsoft.Insights/diagnosticSettings",
            params={"api-version": API_VERSION},
        )
        what = f"reading the diagnostic settings of {resource}"
        with translate_errors(what):
            response = client.send_request(request)
            response.raise_for_status()
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamUnavailableError(f"{what}: unreadable answer") from exc
        items = body.get("value") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise UpstreamUnavailableError(f"{what}: the answer holds no list of settings")
        return [diagnostic_setting_from_json(i) for i in items if isinstance(i, Mapping)]
