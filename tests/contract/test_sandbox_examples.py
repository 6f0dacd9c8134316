"""Every ARM / Key Vault example in tests/fixtures/arm-examples replays against the sandbox.

For each example we seed what its request needs, send the example request through the sandbox
transport, and compare the response with the example's: same status, every key of the example
present with the same type, and equal values except ids, GUIDs, timestamps and the few fields
named in IGNORED (compared case-insensitively, trailing `/` ignored).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from azure.core.rest import HttpRequest

from sandbox import Sandbox

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "arm-examples"
SUB = "00000000-0000-0000-0000-000000000000"
ACR = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.ContainerRegistry/registries/{registryName}"
)
REGISTRY_ID = f"/subscriptions/{SUB}/resourceGroups/myResourceGroup/providers/Microsoft.ContainerRegistry/registries/myRegistry"
P1, P2, P_NEW = (
    "11111111-0000-0000-0000-000000000001",
    "11111111-0000-0000-0000-000000000002",
    "11111111-0000-0000-0000-000000000003",
)
ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
AUTH_SUB = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2"
PRINCIPAL = "ce2ce14e-85d7-4629-bdbc-454d0519d987"

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_HEX32 = re.compile(r"\b[0-9a-f]{32}\b", re.I)
# Timestamps, ids and GUID-bearing values, plus numbers the sandbox does not model (usage).
IGNORED = {
    "id", "principalId", "tenantId", "roleDefinitionId", "objectId", "creationDate",
    "lastUpdatedTime", "created", "updated", "createdOn", "updatedOn", "nextLink",
    "currentValue", "systemData",
}  # fmt: skip


def load(rel: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / rel).read_text())
    return data


def _norm(text: str) -> str:
    return _HEX32.sub("<hex>", _GUID.sub("<guid>", text)).rstrip("/").lower()


def assert_like(expected: Any, actual: Any, where: str = "$") -> None:
    """Every key of `expected` is in `actual` with the same type and (unless ignored) value."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        # An example's null is the same as an absent optional field (the specs have no nullables).
        missing = sorted(k for k in set(expected) - set(actual) if expected[k] is not None)
        assert not missing, f"{where}: missing keys {missing}"
        for key, value in expected.items():
            if value is None and key not in actual:
                continue
            if key in IGNORED:
                assert value is None or actual[key] is not None, f"{where}.{key} is null"
                continue
            assert_like(value, actual[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_like(e, a, f"{where}[{index}]")
    elif isinstance(expected, str):
        assert isinstance(actual, str), f"{where}: expected a string, got {actual!r}"
        assert _norm(expected) == _norm(actual), f"{where}: {actual!r} != {expected!r}"
    else:
        assert expected == actual and type(expected) is type(actual), (
            f"{where}: {actual!r} != {expected!r}"
        )


def send(sb: Sandbox, method: str, url: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    request = HttpRequest(method, url, json=body, headers={"Authorization": "Bearer example"})
    with sb.transport() as transport:
        response = transport.send(request)
        response.read()
    payload = response.json() if response.content else None
    return response.status_code, dict(response.headers), payload


def _url(template: str, params: dict[str, Any], host: str = "https://management.azure.com") -> str:
    path = template.format(**params)
    query = f"api-version={params['api-version']}"
    if "maxresults" in params:
        query += f"&maxresults={params['maxresults']}"
    return f"{host}{path}?{query}"


def acr_scenario(
    *, credential_sets: tuple[str, ...] = ("myCredentialSet", "myCredentialSet2"), rule: bool = True
) -> dict[str, Any]:
    """myRegistry with credential sets whose identities can read myvault, and myCacheRule."""
    principals = {"myCredentialSet": P1, "myCredentialSet2": P2}
    return {
        "subscription": SUB,
        "tenant": SUB,
        "registries": [
            {
                "name": "myRegistry",
                "resourceGroup": "myResourceGroup",
                "location": "westus",
                "sku": "Standard",
                "tags": {"key": "value"},
                "credentialSets": [
                    {
                        "name": name,
                        "loginServer": "docker.io",
                        "username": "https://myvault.vault.azure.net/secrets/username",
                        "password": "https://myvault.vault.azure.net/secrets/password",
                        "principalId": principals[name],
                    }
                    for name in credential_sets
                ],
                "cacheRules": [
                    {
                        "name": "myCacheRule",
                        "source": "docker.io/library/hello-world",
                        "target": "cached-docker-hub/hello-world",
                        "credentialSet": "myCredentialSet",
                    }
                ]
                if rule
                else [],
            }
        ],
        "vaults": [
            {
                "name": "myvault",
                "resourceGroup": "myResourceGroup",
                "rbac": True,
                "secrets": [
                    {"name": n} for n in ("username", "password", "username2", "password2")
                ],
            }
        ],
        "roleAssignments": [
            {"role": "Key Vault Secrets User", "scope": {"vault": "myvault"}, "principal": p}
            for p in (P1, P2, P_NEW)
        ],
    }


def _body_param(example: dict[str, Any]) -> Any:
    bodies = [
        v for k, v in example["parameters"].items() if isinstance(v, dict) and k != "api-version"
    ]
    return bodies[0] if bodies else None


CR = "containerregistry/"


@pytest.mark.parametrize(
    ("rel", "method", "template", "scenario"),
    [
        (CR + "CacheRuleGet.json", "GET", ACR + "/cacheRules/{cacheRuleName}", acr_scenario()),
        (CR + "CacheRuleList.json", "GET", ACR + "/cacheRules", acr_scenario()),
        (
            CR + "CredentialSetGet.json",
            "GET",
            ACR + "/credentialSets/{credentialSetName}",
            acr_scenario(),
        ),
        (
            CR + "CredentialSetList.json",
            "GET",
            ACR + "/credentialSets",
            acr_scenario(credential_sets=("myCredentialSet",)),
        ),
        (CR + "RegistryGet.json", "GET", ACR, acr_scenario()),
        (
            CR + "RegistryList.json",
            "GET",
            "/subscriptions/{subscriptionId}/providers/Microsoft.ContainerRegistry/registries",
            acr_scenario(),
        ),
        (CR + "RegistryListUsages.json", "GET", ACR + "/listUsages", acr_scenario()),
    ],
)
def test_acr_reads(rel: str, method: str, template: str, scenario: dict[str, Any]) -> None:
    example = load(rel)
    status, _, body = send(Sandbox(scenario), method, _url(template, example["parameters"]))
    assert status == 200
    assert_like(example["responses"]["200"]["body"], body)


@pytest.mark.parametrize(
    ("rel", "template", "scenario"),
    [
        (
            CR + "CacheRuleCreate.json",
            ACR + "/cacheRules/{cacheRuleName}",
            acr_scenario(rule=False),
        ),
        (
            CR + "CredentialSetCreate.json",
            ACR + "/credentialSets/{credentialSetName}",
            acr_scenario(credential_sets=(), rule=False),
        ),
    ],
)
def test_acr_creates_201_then_replaces_200(
    rel: str, template: str, scenario: dict[str, Any]
) -> None:
    example = load(rel)
    sb = Sandbox(scenario)
    sb.queue_principal_ids(P_NEW)  # the new identity already holds the grant seeded above
    url = _url(template, example["parameters"])

    status, headers, body = send(sb, "PUT", url, _body_param(example))
    assert status == 201
    assert_like(example["responses"]["201"]["body"], body)
    assert _norm(headers["Azure-AsyncOperation"]) == _norm(
        example["responses"]["201"]["headers"]["Azure-AsyncOperation"]
    )

    status, _, body = send(sb, "PUT", url, _body_param(example))
    assert status == 200
    assert_like(example["responses"]["200"]["body"], body)


@pytest.mark.parametrize(
    ("rel", "template"),
    [
        (CR + "CacheRuleUpdate.json", ACR + "/cacheRules/{cacheRuleName}"),
        (CR + "CredentialSetUpdate.json", ACR + "/credentialSets/{credentialSetName}"),
    ],
)
@pytest.mark.parametrize("async_patch", [False, True])
def test_acr_updates(rel: str, template: str, async_patch: bool) -> None:
    example = load(rel)
    sb = Sandbox(acr_scenario(), async_patch=async_patch)
    status, headers, body = send(
        sb, "PATCH", _url(template, example["parameters"]), _body_param(example)
    )
    expected = "201" if async_patch else "200"
    assert status == int(expected)
    assert_like(example["responses"][expected]["body"], body)
    if async_patch:
        assert _norm(headers["Azure-AsyncOperation"]) == _norm(
            example["responses"]["201"]["headers"]["Azure-AsyncOperation"]
        )


@pytest.mark.parametrize(
    ("rel", "template"),
    [
        (CR + "CacheRuleDelete.json", ACR + "/cacheRules/{cacheRuleName}"),
        (CR + "CredentialSetDelete.json", ACR + "/credentialSets/{credentialSetName}"),
    ],
)
def test_acr_deletes_202_then_204(rel: str, template: str) -> None:
    example = load(rel)
    sb = Sandbox(acr_scenario(rule="CacheRule" in rel))
    url = _url(template, example["parameters"])
    status, headers, body = send(sb, "DELETE", url)
    assert status == 202 and body is None
    assert _norm(headers["Location"]) == _norm(example["responses"]["202"]["headers"]["Location"])
    assert send(sb, "GET", headers["Location"])[0] == 204  # the poll completes the delete
    assert send(sb, "DELETE", url)[0] == 204


def _auth_scenario(rel: str) -> dict[str, Any]:
    # an unfiltered list returns the assignments below its scope too: the subscription-wide
    # example's world holds just its one assignment, the resource group's lives in its own example
    below = rel == "RoleAssignments_ListForScope.json"
    return {
        "subscription": AUTH_SUB,
        "roleDefinitions": [
            {"id": ROLE, "roleName": "Example role", "permissions": [{"actions": ["*"]}]},
            {
                "id": "roleDefinitionId",
                "roleName": "Role name",
                "roleType": "roletype",
                "description": "Role description",
                "assignableScopes": ["/subscriptions/subId"],
                "permissions": [{"actions": ["action"], "dataActions": ["dataAction"]}],
            },
        ],
        "roleAssignments": [
            {
                "id": "b0f43c54-e787-4862-89b1-a653fa9cf747",
                "role": ROLE,
                "scope": f"/subscriptions/{AUTH_SUB}",
                "principal": PRINCIPAL,
                "principalType": "User",
            },
            {
                "id": "96786e4b-dede-4c2e-8736-8ab911987f08",
                "role": ROLE,
                "scope": f"/subscriptions/{AUTH_SUB}/resourceGroups/testrg",
                "principal": PRINCIPAL,
                "principalType": "User",
            },
        ][: 1 if below else 2],
    }


@pytest.mark.parametrize(
    ("rel", "method", "template", "status"),
    [
        (
            "RoleAssignments_Get.json",
            "GET",
            "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
            "200",
        ),
        (
            "RoleAssignments_ListForScope.json",
            "GET",
            "/{scope}/providers/Microsoft.Authorization/roleAssignments",
            "200",
        ),
        (
            "RoleAssignments_ListForResourceGroup.json",
            "GET",
            "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Authorization/roleAssignments",
            "200",
        ),
        (
            "RoleAssignments_CreateForResource.json",
            "PUT",
            "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
            "201",
        ),
        (
            "GetRoleDefinitionById.json",
            "GET",
            "/subscriptions/subID/providers/Microsoft.Authorization/roleDefinitions/{roleId}",
            "200",
        ),
    ],
)
def test_authorization(rel: str, method: str, template: str, status: str) -> None:
    example = load("authorization/" + rel)
    sb = Sandbox(_auth_scenario(rel))
    got, _, body = send(sb, method, _url(template, example["parameters"]), _body_param(example))
    assert got == int(status)
    assert_like(example["responses"][status]["body"], body)
    if method == "PUT":  # the same assignment again is ARM's RoleAssignmentExists
        again, _, error = send(
            sb, method, _url(template, example["parameters"]), _body_param(example)
        )
        assert again == 409 and error["error"]["code"] == "RoleAssignmentExists"


def _kv_scenario(rel: str) -> dict[str, Any]:
    def versions(*ids: str) -> list[dict[str, Any]]:
        return [{"version": v, "value": "mysecretvalue", "created": 1493938410} for v in ids]

    return {
        "vaults": [
            {
                "name": "myvault",
                "resourceGroup": "rg",
                "secrets": [
                    {
                        "name": "mysecretname",
                        "versions": versions("4387e9f3d6e14c459867679a90fd0f79"),
                    },
                    {
                        "name": "listsecretversionstest",
                        "versions": versions(
                            "11a536561da34d6b8b452d880df58f3a", "22a536561da34d6b8b452d880df58f3a"
                        ),
                    },
                    {"name": "crpsecret", "versions": versions("03bcccc7c8cf4546a0e3e21e52560441")},
                ]
                if rel != "GetSecrets-example.json"
                else [
                    {"name": "listsecrettest0", "versions": [{"contentType": "plainText"}]},
                    {"name": "listsecrettest1"},
                ],
            }
        ]
    }


@pytest.mark.parametrize(
    ("rel", "method", "template"),
    [
        ("GetSecret-example.json", "GET", "/secrets/{secret-name}/{secret-version}"),
        ("GetSecretVersions-example.json", "GET", "/secrets/{secret-name}/versions"),
        ("GetSecrets-example.json", "GET", "/secrets"),
        ("SetSecret-example.json", "PUT", "/secrets/{secret-name}"),
        ("UpdateSecret-example.json", "PATCH", "/secrets/{secret-name}/{secret-version}"),
    ],
)
def test_keyvault_data_plane(rel: str, method: str, template: str) -> None:
    example = load("keyvault/" + rel)
    params = example["parameters"]
    sb = Sandbox(_kv_scenario(rel))
    url = _url(template, params, host=params["vaultBaseUrl"].rstrip("/"))
    status, _, body = send(sb, method, url, _body_param(example))
    assert status == 200
    assert_like(example["responses"]["200"]["body"], body)
    assert sb.secret_values_served == (1 if rel.startswith("GetSecret-") else 0)


def test_keyvault_management_get_vault() -> None:
    example = load("keyvault-mgmt/getVault.json")
    expected = example["responses"]["200"]["body"]
    props = expected["properties"]
    scenario = {
        "subscription": SUB,
        "tenant": SUB,
        "vaults": [
            {
                "name": "sample-vault",
                "resourceGroup": "sample-resource-group",
                "location": "westus",
                "rbac": False,
                "accessPolicies": props["accessPolicies"],
                # Flags the sandbox does not model are passed through from the scenario.
                "properties": {
                    k: props[k]
                    for k in (
                        "enabledForDeployment",
                        "enabledForDiskEncryption",
                        "enabledForTemplateDeployment",
                        "hsmPoolResourceId",
                    )
                },
            }
        ],
    }
    template = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}"
    status, _, body = send(Sandbox(scenario), "GET", _url(template, example["parameters"]))
    assert status == 200
    assert_like(expected, body)
    assert body["properties"]["enableRbacAuthorization"] is False


def test_every_example_file_is_replayed() -> None:
    replayed = {
        "containerregistry": {
            "CacheRuleGet", "CacheRuleList", "CredentialSetGet", "CredentialSetList", "RegistryGet",
            "RegistryList", "RegistryListUsages", "CacheRuleCreate", "CredentialSetCreate",
            "CacheRuleUpdate", "CredentialSetUpdate", "CacheRuleDelete", "CredentialSetDelete",
            # replayed in test_sandbox_pull_contract.py
            "TokenGet", "TokenList", "ScopeMapGet", "ScopeMapList", "ScopeMapCreate", "RegistryUpdate",
        },
        "authorization": {
            "RoleAssignments_Get", "RoleAssignments_ListForScope", "RoleAssignments_ListForResourceGroup",
            "RoleAssignments_CreateForResource", "GetRoleDefinitionById",
        },
        "keyvault": {"GetSecret-example", "GetSecretVersions-example", "GetSecrets-example", "SetSecret-example", "UpdateSecret-example"},
        "keyvault-mgmt": {"getVault"},
    }  # fmt: skip
    for folder, names in replayed.items():
        assert {p.stem for p in (EXAMPLES / folder).glob("*.json")} == names
