"""Least privilege and configuration facts of infra/, read from the parsed Bicep.

Every role assignment is found by walking all templates, its role resolved to a GUID, and checked
against the table below (a new assignment fails here until someone decides its scope); the ABAC
condition of the fix-mode grant right is evaluated, not just read; and the app settings the Bicep
writes are fed to the app's own `Settings.from_env`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from shared.domain.models import KEY_VAULT_SECRETS_USER
from shared.settings import Settings
from tests.contract.test_infra_evaluator import (
    INFRA,
    Template,
    bicep_files,
    parse_expression,
    template,
)

# Built-in role GUIDs as the Azure docs list them (built-in-roles/*.md), independent of
# infra/roles.json, which the templates use.
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2"
KEY_VAULT_ADMINISTRATOR = "00482a5a-887f-4fb3-b363-3b7fe8e74483"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_QUEUE_DATA_READER = "19e7f393-937e-4f77-808e-94535e297925"
STORAGE_QUEUE_DATA_MESSAGE_PROCESSOR = "8a0f0c08-91a1-4084-bc3d-661d67233fed"
STORAGE_QUEUE_DATA_MESSAGE_SENDER = "c6a89b2d-59bc-44d0-9896-0f6e12d7b80a"
AUDIT_QUEUES = {"cachekeeper-audit", "cachekeeper-audit-poison"}
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
EVENTGRID_DATA_SENDER = "d5a91429-5739-47e2-a06b-3470a27159e7"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
CUSTOM = "custom registry role"

FORBIDDEN = {
    OWNER: "Owner",
    CONTRIBUTOR: "Contributor",
    USER_ACCESS_ADMINISTRATOR: "User Access Administrator",
    KEY_VAULT_ADMINISTRATOR: "Key Vault Administrator",
    KEY_VAULT_SECRETS_OFFICER: "Key Vault Secrets Officer",
    KEY_VAULT_SECRETS_USER: "Key Vault Secrets User (reads secret values)",
    STORAGE_ACCOUNT_CONTRIBUTOR: "Storage Account Contributor (lists keys)",
}

# role -> the resource types it may be assigned at: the narrowest scope each one needs.
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"
REPOSITORY_WRITER = "2a1e307c-b015-4ebd-883e-5b7698a07328"
ALLOWED_SCOPES = {
    STORAGE_BLOB_DATA_OWNER: {"Microsoft.Storage/storageAccounts"},
    STORAGE_QUEUE_DATA_CONTRIBUTOR: {"Microsoft.Storage/storageAccounts"},  # the developer only
    # the audit queues' triggers and output bindings, each role on each queue
    STORAGE_QUEUE_DATA_READER: {"Microsoft.Storage/storageAccounts/queueServices/queues"},
    STORAGE_QUEUE_DATA_MESSAGE_PROCESSOR: {
        "Microsoft.Storage/storageAccounts/queueServices/queues"
    },
    STORAGE_QUEUE_DATA_MESSAGE_SENDER: {"Microsoft.Storage/storageAccounts/queueServices/queues"},
    STORAGE_TABLE_DATA_CONTRIBUTOR: {"Microsoft.Storage/storageAccounts"},
    MONITORING_METRICS_PUBLISHER: {"Microsoft.Insights/components"},
    READER: {"Microsoft.KeyVault/vaults"},
    KEY_VAULT_READER: {"Microsoft.KeyVault/vaults"},
    # fix mode: Key Vault Secrets User at vaults, pull roles at registries (ABAC-constrained)
    RBAC_ADMINISTRATOR: {"Microsoft.KeyVault/vaults", "Microsoft.ContainerRegistry/registries"},
    CUSTOM: {"Microsoft.ContainerRegistry/registries"},
    ACR_PULL: {"Microsoft.ContainerRegistry/registries"},  # the repository catalog
    STORAGE_BLOB_DATA_CONTRIBUTOR: {"Microsoft.Storage/storageAccounts/blobServices/containers"},
    EVENTGRID_DATA_SENDER: {"Microsoft.EventGrid/topics"},
}

REGISTRIES = [
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/one",
    "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-other/providers/Microsoft.ContainerRegistry/registries/two",
]
VAULTS = [
    "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-one",
]
CLIENT_ID = "0f0f0f0f-1111-2222-3333-444444444444"
APP_PRINCIPAL = "a0a0a0a0-5555-6666-7777-888888888888"  # the app identity's object id
PULLER = "b1b1b1b1-5555-6666-7777-888888888888"  # a credential set's or a puller's


def main_env(**overrides: Any) -> dict[str, Any]:
    """main.bicep's parameters as azd passes them, with spaces azd users tend to type."""
    values = {
        "environmentName": "dev",
        "location": "westeurope",
        "managedRegistries": f" {REGISTRIES[0]} ,{REGISTRIES[1]}, ",
        "managedVaults": VAULTS[0],
        **overrides,
    }
    return template("main.bicep").defaults(**values)


@dataclass(frozen=True)
class Assignment:
    where: str
    symbol: str
    role: str
    scope_type: str
    body: dict[str, Any]
    deploy_condition: Any


def _unwrap(config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    if "loop_type" in config or set(config) == {"condition", "config"}:
        return config["config"], config.get("condition")
    return config, None


def _role_of(tpl: Template, body: dict[str, Any]) -> str:
    expr = body["properties"]["roleDefinitionId"]
    if (
        isinstance(expr, dict)
        and expr.get("function", {}).get("type") == "subscription_resource_id"
    ):
        params = expr["function"]["parameters"]
        assert params["resource_type"] == "Microsoft.Authorization/roleDefinitions"
        guid = tpl.evaluate(params["resource_name_1"], {})
        assert isinstance(guid, str)
        return guid.lower()
    if isinstance(expr, str) and expr in tpl.parameters:
        for caller, symbol in _callers(tpl):
            passed = _module_body(caller, symbol)["params"][expr]
            source = passed["operator"]["operands"]
            assert source["operand_2"] == "id", f"{caller.relative()} passes {passed!r}"
            role = caller.resources[source["operand_1"]]
            assert role["type"] == "Microsoft.Authorization/roleDefinitions"
        return CUSTOM
    raise AssertionError(f"{tpl.relative()}: unrecognised roleDefinitionId {expr!r}")


def _callers(child: Template) -> Iterator[tuple[Template, str]]:
    found = False
    for path in bicep_files():
        tpl = template(path.relative_to(INFRA).as_posix())
        for symbol in tpl.modules:
            if tpl.module_template(symbol).path == child.path:
                found = True
                yield tpl, symbol
    assert found, f"nothing deploys {child.relative()}"


def _module_body(tpl: Template, symbol: str) -> dict[str, Any]:
    return _unwrap(tpl.modules[symbol]["config"])[0]


def role_assignments() -> list[Assignment]:
    found = []
    for path in bicep_files():
        tpl = template(path.relative_to(INFRA).as_posix())
        for symbol, res in tpl.resources.items():
            if res["type"] != "Microsoft.Authorization/roleAssignments" or res["existing"]:
                continue
            body, condition = _unwrap(res["config"])
            scope = body.get("scope")
            assert isinstance(scope, str) and scope in tpl.resources, (
                f"{tpl.relative()}:{symbol} must be scoped to a resource, not {scope!r}"
            )
            found.append(
                Assignment(
                    tpl.relative(),
                    symbol,
                    _role_of(tpl, body),
                    tpl.resources[scope]["type"],
                    body,
                    condition,
                )
            )
    return found


def test_no_owner_contributor_or_secret_reading_role_is_assigned() -> None:
    assignments = role_assignments()
    assert len(assignments) >= 10
    for a in assignments:
        assert a.role not in FORBIDDEN, f"{a.where}:{a.symbol} assigns {FORBIDDEN[a.role]}"


def test_each_role_is_assigned_only_at_the_narrowest_scope_it_needs() -> None:
    used = set()
    for a in role_assignments():
        assert a.role in ALLOWED_SCOPES, f"{a.where}:{a.symbol}: role {a.role} is not reviewed"
        assert a.scope_type in ALLOWED_SCOPES[a.role], f"{a.where}:{a.symbol} at {a.scope_type}"
        used.add(a.role)
    assert used == set(ALLOWED_SCOPES)


def test_the_app_holds_queue_data_roles_only_on_the_audit_queues() -> None:
    app_queue_roles = [
        a for a in role_assignments()
        if "queues" in str(a.scope_type).lower() or a.role == STORAGE_QUEUE_DATA_CONTRIBUTOR
    ]  # fmt: skip
    for a in app_queue_roles:
        if a.role == STORAGE_QUEUE_DATA_CONTRIBUTOR:
            assert _is_developer_grant(a), f"{a.symbol}: the app needs no account-wide queue role"
    roles_per_queue = {
        (a.symbol.startswith("poison"), a.role)
        for a in app_queue_roles
        if not _is_developer_grant(a)
    }
    expected = {
        STORAGE_QUEUE_DATA_READER,
        STORAGE_QUEUE_DATA_MESSAGE_PROCESSOR,
        STORAGE_QUEUE_DATA_MESSAGE_SENDER,
    }
    assert roles_per_queue == {(poison, role) for poison in (False, True) for role in expected}
    storage = (INFRA / "main.bicep").read_text()
    assert "var auditQueue = 'cachekeeper-audit'" in storage and "'${auditQueue}-poison'" in storage


def test_managed_identities_are_assigned_as_service_principals() -> None:
    for a in role_assignments():
        if a.role == EVENTGRID_DATA_SENDER:
            continue  # publishers may be users, groups or applications
        if _is_developer_grant(a):
            continue  # the developer's own grants (below)
        assert a.body["properties"].get("principalType") == "ServicePrincipal", a.symbol


def _is_developer_grant(a: Assignment) -> bool:
    return a.where == "app/api.bicep" and a.body["properties"]["principalId"] == "principalId"


DEVELOPER_ROLES = {
    ("3913510d-42f4-4e42-8a64-420c390055eb", "Microsoft.Insights/components"),
    ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Microsoft.Storage/storageAccounts"),
    ("974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts"),
    ("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts"),
}


def test_the_deploying_developer_gets_the_app_data_roles_only_when_azd_names_them() -> None:
    developer = [a for a in role_assignments() if _is_developer_grant(a)]
    assert {(a.role, a.scope_type) for a in developer} == DEVELOPER_ROLES
    for a in developer:
        assert a.body["properties"]["principalType"] == "User", a.symbol
        assert a.deploy_condition == {
            "operator": {
                "type": "not_equals",
                "operands": {"operand_1": "principalId", "operand_2": ""},
            }
        }, a.symbol


def test_role_names_in_the_templates_match_the_documented_guids() -> None:
    roles = template("main.bicep").evaluate({"function": _load("roles.json")}, {})
    assert roles["reader"] == READER
    assert roles["keyVaultReader"] == KEY_VAULT_READER
    assert roles["keyVaultSecretsUser"] == KEY_VAULT_SECRETS_USER
    assert roles["roleBasedAccessControlAdministrator"] == RBAC_ADMINISTRATOR
    assert roles["storageBlobDataContributor"] == STORAGE_BLOB_DATA_CONTRIBUTOR


def _load(name: str) -> dict[str, Any]:
    return {"type": "load_json_content", "parameters": {"file_path": name}}


# -- the fix-mode grant right -----------------------------------------------------------------


def _grant_right(scope_type: str = "Microsoft.KeyVault/vaults") -> Assignment:
    (grant,) = [
        a for a in role_assignments() if a.role == RBAC_ADMINISTRATOR and a.scope_type == scope_type
    ]
    return grant


def test_the_grant_right_exists_only_in_fix_mode() -> None:
    grant = _grant_right()
    assert isinstance(grant.deploy_condition, str), "the grant right must be conditional"
    main = template("main.bicep")
    for mode, expected in (("report", False), ("fix", True)):
        envs = main.module_envs("vaults", main_env(remediationMode=mode))
        assert len(envs) == len(VAULTS)
        for child, env in envs:
            assert child.relative() == grant.where
            assert env[grant.deploy_condition] is expected, mode


def _condition(scope_type: str = "Microsoft.KeyVault/vaults") -> str:
    props = _grant_right(scope_type).body["properties"]
    assert props["conditionVersion"] == "2.0"
    tpl = template(_grant_right(scope_type).where)
    text = tpl.evaluate(props["condition"], {"principalId": APP_PRINCIPAL})
    return text.replace("\\'", "'")  # pycep keeps Bicep's \' escapes


def test_the_abac_condition_names_only_key_vault_secrets_user() -> None:
    guids = set(re.findall(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", _condition()))
    assert guids == {KEY_VAULT_SECRETS_USER, APP_PRINCIPAL}


@pytest.mark.parametrize(
    ("action", "role", "principal_type", "allowed"),
    [
        ("write", KEY_VAULT_SECRETS_USER, "ServicePrincipal", True),
        ("write", KEY_VAULT_SECRETS_USER, "User", False),
        ("write", KEY_VAULT_SECRETS_USER, "Group", False),
        ("write", OWNER, "ServicePrincipal", False),
        ("write", KEY_VAULT_SECRETS_OFFICER, "ServicePrincipal", False),
        ("write", RBAC_ADMINISTRATOR, "ServicePrincipal", False),
        ("delete", KEY_VAULT_SECRETS_USER, "ServicePrincipal", True),
        ("delete", READER, "ServicePrincipal", False),
        ("delete", KEY_VAULT_SECRETS_USER, "User", False),
        ("read", OWNER, "User", True),
    ],
)
def test_the_abac_condition_allows_only_secrets_user_grants_to_service_principals(
    action: str, role: str, principal_type: str, allowed: bool
) -> None:
    attributes = {
        "RoleDefinitionId": [role],
        "PrincipalType": [principal_type],
        "PrincipalId": [PULLER],
    }
    request = attributes if action == "write" else {}
    resource = attributes if action == "delete" else {}
    verdict = evaluate_condition(
        _condition(),
        action=f"Microsoft.Authorization/roleAssignments/{action}",
        request=request,
        resource=resource,
    )
    assert verdict is allowed


REGISTRY_SCOPE = "Microsoft.ContainerRegistry/registries"


def test_the_pull_grant_right_exists_only_in_fix_mode() -> None:
    grant = _grant_right(REGISTRY_SCOPE)
    assert isinstance(grant.deploy_condition, str), "the pull grant right must be conditional"
    main = template("main.bicep")
    for mode, expected in (("report", False), ("fix", True)):
        envs = main.module_envs("registries", main_env(remediationMode=mode))
        assert len(envs) == len(REGISTRIES)
        for child, env in envs:
            assert child.relative() == grant.where
            assert env[grant.deploy_condition] is expected, mode


def test_the_pull_grant_condition_names_only_acrpull_and_repository_reader() -> None:
    guids = set(
        re.findall(
            r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", _condition(REGISTRY_SCOPE)
        )
    )
    assert guids == {ACR_PULL, REPOSITORY_READER, APP_PRINCIPAL}


@pytest.mark.parametrize(
    ("action", "role", "principal_type", "allowed"),
    [
        ("write", ACR_PULL, "ServicePrincipal", True),
        ("write", REPOSITORY_READER, "ServicePrincipal", True),
        ("write", ACR_PULL, "User", False),
        ("write", ACR_PUSH, "ServicePrincipal", False),
        ("write", REPOSITORY_WRITER, "ServicePrincipal", False),
        ("write", OWNER, "ServicePrincipal", False),
        ("write", RBAC_ADMINISTRATOR, "ServicePrincipal", False),
        ("write", KEY_VAULT_SECRETS_USER, "ServicePrincipal", False),
        ("delete", ACR_PULL, "ServicePrincipal", True),
        ("delete", ACR_PUSH, "ServicePrincipal", False),
        ("read", OWNER, "User", True),
    ],
)
def test_the_pull_grant_condition_allows_only_pull_roles_for_service_principals(
    action: str, role: str, principal_type: str, allowed: bool
) -> None:
    attributes = {
        "RoleDefinitionId": [role],
        "PrincipalType": [principal_type],
        "PrincipalId": [PULLER],
    }
    verdict = evaluate_condition(
        _condition(REGISTRY_SCOPE),
        action=f"Microsoft.Authorization/roleAssignments/{action}",
        request=attributes if action == "write" else {},
        resource=attributes if action == "delete" else {},
    )
    assert verdict is allowed


@pytest.mark.parametrize(
    ("scope_type", "role"),
    [("Microsoft.KeyVault/vaults", KEY_VAULT_SECRETS_USER), (REGISTRY_SCOPE, ACR_PULL)],
)
@pytest.mark.parametrize("action", ["write", "delete"])
@pytest.mark.parametrize(
    ("principal", "allowed"),
    [(APP_PRINCIPAL, False), (APP_PRINCIPAL.upper(), False), (PULLER, True)],
)
def test_the_grant_conditions_refuse_the_apps_own_identity(
    scope_type: str, role: str, action: str, principal: str, allowed: bool
) -> None:
    """The role and principal type the app may grant, to itself, would be vault-wide secret
    reads (or registry-wide pulls) for the app: refused for the app's own object id."""
    attributes = {
        "RoleDefinitionId": [role],
        "PrincipalType": ["ServicePrincipal"],
        "PrincipalId": [principal],
    }
    verdict = evaluate_condition(
        _condition(scope_type),
        action=f"Microsoft.Authorization/roleAssignments/{action}",
        request=attributes if action == "write" else {},
        resource=attributes if action == "delete" else {},
    )
    assert verdict is allowed


def test_the_excluded_principal_is_the_app_identity_the_app_also_knows() -> None:
    """The conditions exclude the principalId each vault and registry module gets: the app
    identity's object id, the same value the app reads as APP_PRINCIPAL_ID (the code-side check)."""
    main = template("main.bicep")
    for module in ("vaults", "registries"):
        params = _module_params_of(main.modules[module]["config"])
        assert params["principalId"] == parse_expression("api.outputs.identityPrincipalId"), module
    api = template("app/api.bicep")
    assert api.outputs["identityPrincipalId"]["value"] == parse_expression(
        "identity.properties.principalId"
    )
    assert app_settings()["APP_PRINCIPAL_ID"] == APP_PRINCIPAL
    assert Settings.from_env(app_settings()).app_principal_id == APP_PRINCIPAL


def _module_params_of(config: dict[str, Any]) -> dict[str, Any]:
    while "params" not in config and "config" in config:
        config = config["config"]
    return dict(config["params"])


# The operators the Azure docs list per role-assignment attribute ("Authorization actions and
# attributes"); a condition using another one is refused here before Azure would refuse it.
OPERATORS = {
    "RoleDefinitionId": ("GuidEquals", "GuidNotEquals"),
    "PrincipalId": ("GuidEquals", "GuidNotEquals"),
    "PrincipalType": ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"),
}
_COMPARE = {
    "GuidEquals": lambda a, b: a == b,
    "GuidNotEquals": lambda a, b: a != b,
    "StringEqualsIgnoreCase": lambda a, b: a == b,
    "StringNotEqualsIgnoreCase": lambda a, b: a != b,
}


def evaluate_condition(
    text: str, *, action: str, request: Mapping[str, list[str]], resource: Mapping[str, list[str]]
) -> bool:
    """Azure ABAC condition semantics for the subset role-assignment conditions use."""
    tokens = re.findall(
        r"\(|\)|!|\bAND\b|\bOR\b|ActionMatches\{'[^']*'\}"
        r"|@(?:Request|Resource)\[[^\]]+\]\s+ForAnyOfA(?:ny|ll)Values:\w+\s*\{[^}]*\}",
        text,
    )
    assert "".join(tokens).replace(" ", "") == re.sub(r"\s+", "", text), "unparsed text"
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def expr() -> bool:
        value = conj()
        while peek() == "OR":
            take()
            value = conj() or value
        return value

    def conj() -> bool:
        value = unary()
        while peek() == "AND":
            take()
            value = unary() and value
        return value

    def unary() -> bool:
        token = take()
        if token == "!":
            return not unary()
        if token == "(":
            value = expr()
            assert take() == ")"
            return value
        if token.startswith("ActionMatches"):
            return token[len("ActionMatches{'") : -2] == action
        source, attribute, quantified, operator, values = re.match(
            r"@(Request|Resource)\[Microsoft\.Authorization/roleAssignments:(\w+)\]\s+"
            r"ForAnyOfA(ny|ll)Values:(\w+)\s*\{([^}]*)\}",
            token,
        ).groups()  # type: ignore[union-attr]
        listed = {v.strip().strip("'").lower() for v in values.split(",")}
        assert operator in OPERATORS.get(attribute, ()), (attribute, operator)
        compare = _COMPARE[operator]
        quantifier = all if quantified == "ll" else any  # over the listed values
        actual = (request if source == "Request" else resource).get(attribute, [])
        # ForAnyOf…: true when at least one actual value compares true with any / all listed ones
        return any(quantifier(compare(v.lower(), w) for w in listed) for v in actual)

    verdict = expr()
    assert pos == len(tokens)
    return verdict


# -- the custom registry role -----------------------------------------------------------------


def _registry_role() -> dict[str, Any]:
    main = template("main.bicep")
    (symbol,) = [
        s
        for s, r in main.resources.items()
        if r["type"] == "Microsoft.Authorization/roleDefinitions"
    ]
    return main.evaluate(main.resources[symbol]["config"], main_env())


def test_the_registry_role_covers_only_cache_rules_credential_sets_and_reads() -> None:
    """Reads: the registry, and its diagnostic settings (the audit's log-routing check)."""
    props = _registry_role()["properties"]
    (permission,) = props["permissions"]
    assert set(permission["actions"]) == {
        "Microsoft.ContainerRegistry/registries/read",
        "Microsoft.ContainerRegistry/registries/cacheRules/*",
        "Microsoft.ContainerRegistry/registries/credentialSets/*",
        "Microsoft.Insights/diagnosticSettings/read",
    }
    assert not permission["dataActions"]
    assert props["type"] == "CustomRole"


def test_the_registry_role_is_assignable_only_in_the_registries_resource_groups() -> None:
    scopes = _registry_role()["properties"]["assignableScopes"]
    assert sorted(scopes) == sorted(r.split("/providers/")[0] for r in REGISTRIES)


def test_every_managed_registry_and_vault_gets_its_module_in_its_own_resource_group() -> None:
    main = template("main.bicep")
    for symbol, ids in (("registries", REGISTRIES), ("vaults", VAULTS)):
        instances = main.instances("module", symbol, main_env())
        assert len(instances) == len(ids)
        for node, rid in zip(instances, ids, strict=True):
            scope = node.body["scope"]["function"]["parameters"]
            assert main.evaluate(scope["subscription_id"], node.env) == rid.split("/")[2]
            assert main.evaluate(scope["resource_group_name"], node.env) == rid.split("/")[4]


# -- storage, telemetry, keys -------------------------------------------------------------------


def _resources(kind: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in bicep_files():
        tpl = template(path.relative_to(INFRA).as_posix())
        for symbol, res in tpl.resources.items():
            if res["type"] == kind and not res["existing"]:
                out.append((f"{tpl.relative()}:{symbol}", _unwrap(res["config"])[0]))
    return out


def test_storage_accounts_allow_only_entra_id_over_tls() -> None:
    accounts = _resources("Microsoft.Storage/storageAccounts")
    assert accounts
    for where, body in accounts:
        props = body["properties"]
        assert props["allowSharedKeyAccess"] is False, where
        assert props["allowBlobPublicAccess"] is False, where
        assert props["defaultToOAuthAuthentication"] is True, where
        assert props["minimumTlsVersion"] == "TLS1_2", where
        assert props["supportsHttpsTrafficOnly"] is True, where
    for where, body in _resources("Microsoft.Storage/storageAccounts/blobServices/containers"):
        assert body["properties"]["publicAccess"] == "None", where


def test_telemetry_and_the_custom_topic_disable_local_keys() -> None:
    for where, body in _resources("Microsoft.Insights/components"):
        assert body["properties"]["DisableLocalAuth"] is True, where
    for where, body in _resources("Microsoft.OperationalInsights/workspaces"):
        assert body["properties"]["features"]["disableLocalAuth"] is True, where
    topics = _resources("Microsoft.EventGrid/topics")
    assert topics
    for where, body in topics:
        assert body["properties"]["disableLocalAuth"] is True, where


# -- app settings -------------------------------------------------------------------------------


def app_settings(**overrides: Any) -> dict[str, str]:
    """The app settings the function app gets, computed from main.bicep through app/api.bicep."""
    main = template("main.bicep")
    ((api, env),) = main.module_envs("api", main_env(**overrides))
    env |= {
        "identity": {"properties": {"clientId": CLIENT_ID, "principalId": APP_PRINCIPAL}},
        "appInsights": {"properties": {"ConnectionString": "InstrumentationKey=example"}},
    }
    (site,) = [s for s, r in api.resources.items() if r["type"] == "Microsoft.Web/sites"]
    (instance,) = api.instances("resource", site, env)
    pairs = api.evaluate(instance.body["properties"]["siteConfig"]["appSettings"], env)
    names = [p["name"] for p in pairs]
    assert len(names) == len(set(names)), "an app setting is written twice"
    return {p["name"]: p["value"] for p in pairs}


class Recording(Mapping[str, str]):
    """An environment that remembers which names were read."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values, self.read = dict(values), set[str]()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


PLATFORM = ("AzureWebJobsStorage__", "APPLICATIONINSIGHTS_", "PYTHON_ENABLE_OPENTELEMETRY")


def test_the_bicep_writes_exactly_the_production_settings_the_app_reads() -> None:
    settings = app_settings()
    env = Recording(settings)
    Settings.from_env(env)
    app_names = {n for n in settings if not n.startswith(PLATFORM)}
    read = {n for n in env.read if not n.startswith("SANDBOX_")}
    assert app_names == read
    assert not any(n.startswith("SANDBOX_") for n in settings)


def test_the_worker_runs_with_its_opentelemetry_integration() -> None:
    # function spans continue the host's trace only with this setting and host.json's mode
    assert app_settings()["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
    host = json.loads((INFRA.parent / "host.json").read_text(encoding="utf-8"))
    assert host["telemetryMode"] == "OpenTelemetry"


def test_the_app_accepts_the_bicep_defaults() -> None:
    parsed = Settings.from_env(app_settings())
    assert parsed.mode == "azure"
    assert [str(r) for r in parsed.managed_registries] == REGISTRIES
    assert [str(v) for v in parsed.vault_allowlist] == VAULTS
    assert parsed.remediation_mode == "report"
    assert parsed.auto_reconcile is False
    assert parsed.expiry_horizon_days == 30
    assert parsed.storage_connection is not None
    assert re.fullmatch(
        r"https://st[a-z0-9]+\.table\.core\.windows\.net", parsed.storage_connection
    )
    assert parsed.managed_identity_client_id == CLIENT_ID


def test_deployment_parameters_reach_the_app() -> None:
    parsed = Settings.from_env(
        app_settings(
            remediationMode="fix",
            autoReconcile=True,
            expiryHorizonDays=7,
            auditSchedule="0 */15 * * * *",
            managedVaults="",
        )
    )
    assert parsed.remediation_mode == "fix"
    assert parsed.auto_reconcile is True
    assert parsed.expiry_horizon_days == 7
    assert parsed.audit_schedule == "0 */15 * * * *"
    assert parsed.vault_allowlist == ()


def test_host_storage_and_telemetry_use_the_identity_not_keys() -> None:
    settings = app_settings()
    assert "AzureWebJobsStorage" not in settings  # a connection string would carry a key
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__clientId"] == CLIENT_ID
    for service in ("blob", "queue", "table"):
        uri = settings[f"AzureWebJobsStorage__{service}ServiceUri"]
        assert re.fullmatch(rf"https://st[a-z0-9]+\.{service}\.core\.windows\.net", uri)
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == (
        f"ClientId={CLIENT_ID};Authorization=AAD"
    )
    for name, value in settings.items():
        assert "AccountKey=" not in value and "SharedAccessSignature" not in value, name
