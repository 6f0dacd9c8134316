"""Microsoft.KeyVault/vaults (management plane): read vaults and their permission model."""

from __future__ import annotations

import re
from typing import Any

from sandbox.arm_acr import Handler
from sandbox.env import Env
from sandbox.errors import not_found
from sandbox.paging import arm_list
from sandbox.state import Vault
from sandbox.wire import Request, Response, json_response

_SUB = r"^/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourceGroups/(?P<rg>[^/]+)"
_VAULTS = r"/providers/Microsoft\.KeyVault/vaults"


def vault_json(vault: Vault) -> dict[str, Any]:
    """A vault as `Vaults_Get` returns it."""
    return {
        "name": vault.name,
        "type": "Microsoft.KeyVault/vaults",
        "id": vault.id,
        "location": vault.location,
        "properties": {
            "accessPolicies": [dict(p) for p in vault.access_policies],
            "enabledForDeployment": False,
            "enabledForDiskEncryption": False,
            "enabledForTemplateDeployment": False,
            "enableRbacAuthorization": vault.rbac,
            "enableSoftDelete": True,
            "softDeleteRetentionInDays": 90,
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
            "sku": {"name": "standard", "family": "A"},
            "tenantId": vault.tenant_id,
            "vaultUri": vault.uri,
            **vault.extra_properties,
        },
        "systemData": {
            "createdAt": "2024-01-01T00:00:00.0000000Z",
            "createdBy": "sandbox",
            "createdByType": "Application",
            "lastModifiedAt": "2024-01-01T00:00:00.0000000Z",
            "lastModifiedBy": "sandbox",
            "lastModifiedByType": "Application",
        },
        "tags": dict(vault.tags),
    }


def get_vault(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Vaults_Get."""
    vault = env.state.vault(p["name"])
    if (
        vault is None
        or vault.subscription.lower() != p["sub"].lower()
        or vault.resource_group.lower() != p["rg"].lower()
    ):
        raise not_found(
            "ResourceNotFound",
            f"The Resource 'Microsoft.KeyVault/vaults/{p['name']}' under resource group "
            f"'{p['rg']}' was not found.",
        )
    return json_response(200, vault_json(vault))


def list_vaults(env: Env, req: Request, p: dict[str, str]) -> Response:
    """Vaults_ListByResourceGroup / Vaults_ListBySubscription."""
    found = [
        v
        for v in env.state.vaults.values()
        if v.subscription.lower() == p["sub"].lower()
        and ("rg" not in p or v.resource_group.lower() == p["rg"].lower())
    ]
    found.sort(key=lambda v: v.name.lower())
    return arm_list(env, req, found, lambda chunk: [vault_json(v) for v in chunk])


ROUTES: list[tuple[set[str], re.Pattern[str], Handler]] = [
    ({"GET"}, re.compile(_RG + _VAULTS + r"/(?P<name>[^/]+)$", re.I), get_vault),
    ({"GET"}, re.compile(_RG + _VAULTS + "$", re.I), list_vaults),
    ({"GET"}, re.compile(_SUB + _VAULTS + "$", re.I), list_vaults),
]
