"""ARM JSON shapes of registries, credential sets and cache rules (api-version 2025-11-01)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.env import Env, format_time
from sandbox.health import reported_health
from sandbox.state import CacheRule, CredentialSet, Registry, RoleAssignment

CREDENTIAL_SET_TYPE = "Microsoft.ContainerRegistry/registries/credentialSets"
CACHE_RULE_TYPE = "Microsoft.ContainerRegistry/registries/cacheRules"


def registry_json(registry: Registry) -> dict[str, Any]:
    """A registry as `Registries_Get` returns it."""
    return {
        "id": registry.id,
        "name": registry.name,
        "type": "Microsoft.ContainerRegistry/registries",
        "location": registry.location,
        "tags": dict(registry.tags),
        "sku": {"name": registry.sku, "tier": registry.sku},
        "properties": {
            "loginServer": registry.login_server,
            "creationDate": format_time(registry.created),
            "provisioningState": "Succeeded",
            "adminUserEnabled": registry.auth.admin_user_enabled,
            "networkRuleSet": {"defaultAction": "Allow", "ipRules": []},
            "policies": {
                "quarantinePolicy": {"status": "disabled"},
                "trustPolicy": {"type": "Notary", "status": "disabled"},
                "retentionPolicy": {
                    "days": 7,
                    "lastUpdatedTime": format_time(registry.created),
                    "status": "disabled",
                },
                "exportPolicy": {"status": "enabled"},
                "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
            },
            "encryption": {"status": "disabled"},
            "dataEndpointEnabled": False,
            "dataEndpointHostNames": [],
            "privateEndpointConnections": [],
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "networkRuleBypassAllowedForTasks": False,
            "zoneRedundancy": "Disabled",
            "anonymousPullEnabled": False,
            "roleAssignmentMode": registry.auth.role_assignment_mode,
        },
    }


def usages_json(env: Env, registry: Registry) -> dict[str, Any]:
    """`Registries_ListUsages` (static numbers: the sandbox models no storage or webhooks)."""
    return {
        "value": [
            {"name": "Size", "limit": 107374182400, "currentValue": 0, "unit": "Bytes"},
            {"name": "Webhooks", "limit": 10, "currentValue": 0, "unit": "Count"},
        ]
    }


def credential_set_json(
    env: Env,
    registry: Registry,
    cred: CredentialSet,
    *,
    by_principal: Mapping[str, list[RoleAssignment]] | None = None,
) -> dict[str, Any]:
    """A credential set with `credentialHealth` as ACR reports it now (health.reported_health;
    `by_principal`: a list page's assignments_by_principal, shared by its items)."""
    healths = reported_health(
        env.state, cred, env.now, env.options.health_refresh_seconds, by_principal=by_principal
    )
    auth = [
        {
            "name": entry.name,
            "usernameSecretIdentifier": entry.username_uri,
            "passwordSecretIdentifier": entry.password_uri,
            "credentialHealth": health.as_json(),
        }
        for entry, health in zip(cred.credentials, healths, strict=True)
    ]
    identity: dict[str, Any] = {"type": cred.identity_type}
    if cred.principal_id:
        identity["principalId"] = cred.principal_id
        identity["tenantId"] = cred.tenant_id
    return {
        "type": CREDENTIAL_SET_TYPE,
        "identity": identity,
        "id": registry.credential_set_id(cred.name),
        "name": cred.name,
        "properties": {
            "loginServer": cred.login_server,
            "authCredentials": auth,
            "creationDate": format_time(cred.created),
            "provisioningState": cred.provisioning_state,
        },
    }


def cache_rule_json(registry: Registry, rule: CacheRule) -> dict[str, Any]:
    """A cache rule."""
    properties: dict[str, Any] = {}
    if rule.credential_set_id:
        properties["credentialSetResourceId"] = rule.credential_set_id
    properties.update(
        {
            "sourceRepository": rule.source,
            "targetRepository": rule.target,
            "creationDate": format_time(rule.created),
            "provisioningState": rule.provisioning_state,
        }
    )
    return {
        "type": CACHE_RULE_TYPE,
        "id": f"{registry.id}/cacheRules/{rule.name}",
        "name": rule.name,
        "properties": properties,
    }
