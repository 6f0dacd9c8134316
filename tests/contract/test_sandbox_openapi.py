"""What the real SDKs send, and what the sandbox answers, validates against the OpenAPI specs.

The specs in tests/fixtures/openapi are verbatim copies; `$ref`s (including into common-types/)
are resolved with `referencing`. Swagger 2.0 schemas are JSON Schema draft 4 plus extensions,
which the validator ignores.
"""

from __future__ import annotations

import json
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerregistry.models import (
    AuthCredential,
    CacheRule,
    CacheRuleUpdateParameters,
    CredentialSet,
    CredentialSetUpdateParameters,
    IdentityProperties,
)
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from sandbox import Sandbox
from sandbox.wire import Request, Response
from tests.integration.conftest import DEMO, RG_CACHE, SUBSCRIPTION, make_clients

OPENAPI = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
SPECS = {
    "containerregistry": "containerregistry.2025-11-01.json",
    "roleAssignments": "authorization.roleAssignments.2022-04-01.json",
    "roleDefinitions": "authorization.roleDefinitions.2022-04-01.json",
    "keyvault": "keyvault-mgmt.2026-04-01.json",
    "secrets": "keyvault-secrets.2026-04-01.json",
}
BASE = "file:///openapi/"
MULTI_SEGMENT = {"scope", "roleId", "roleAssignmentId"}


def _retrieve(uri: str) -> Resource[Any]:
    # Relative refs climb above the spec folder; they land on file:///common-types/... here.
    path = uri.removeprefix("file:///")
    if path == "openapi/common-types.json":  # the authorization specs' ./common-types.json
        path = "openapi/authorization.common-types.json"
    local = OPENAPI / path.removeprefix("openapi/")
    return Resource.from_contents(json.loads(local.read_text()), default_specification=DRAFT4)


@cache
def _registry() -> Registry[Any]:
    return Registry(retrieve=_retrieve)  # type: ignore[call-arg]


@cache
def _spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OPENAPI / SPECS[name]).read_text())
    return data


def _validator(spec: str, pointer: str) -> Draft4Validator:
    return Draft4Validator({"$ref": f"{BASE}{SPECS[spec]}#{pointer}"}, registry=_registry())


@cache
def _operations() -> list[tuple[str, re.Pattern[str], str, str]]:
    """(spec, path regex, spec path, method) for every operation, most specific first."""
    out = []
    for name in SPECS:
        paths = {**_spec(name).get("paths", {}), **_spec(name).get("x-ms-paths", {})}
        for template, ops in paths.items():
            regex = re.escape(template.split("?")[0])
            for param in re.findall(r"\\\{([^}]+)\\\}", regex):
                part = ".+" if param in MULTI_SEGMENT else "[^/]+"
                regex = regex.replace(rf"\{{{param}\}}", part)
            for method in ops:
                if method in ("get", "put", "patch", "delete", "post"):
                    out.append((name, re.compile(f"^{regex}$", re.I), template, method))
    out.sort(key=lambda o: -len(re.sub(r"\{[^}]+\}", "", o[2])))
    return out


def find_operation(host: str, path: str, method: str) -> tuple[str, str, str]:
    """(spec name, spec path, method) serving this request."""
    wanted = {"secrets"} if host.endswith(".vault.azure.net") else set(SPECS) - {"secrets"}
    for name, regex, template, verb in _operations():
        if name in wanted and verb == method.lower() and regex.match(path):
            return name, template, verb
    raise LookupError(f"no spec operation for {method} {host}{path}")


def _operation(name: str, template: str, verb: str) -> dict[str, Any]:
    spec = _spec(name)
    paths = {**spec.get("paths", {}), **spec.get("x-ms-paths", {})}
    op: dict[str, Any] = paths[template][verb]
    return op


def _pointer(name: str, template: str, verb: str, *parts: str) -> str:
    escaped = template.replace("~", "~0").replace("/", "~1")
    section = "paths" if template in _spec(name).get("paths", {}) else "x-ms-paths"
    return "/" + "/".join([section, escaped, verb, *parts])


class RecordingSandbox(Sandbox):
    """A sandbox that also keeps every request/response pair (a hand-written spy)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exchanges: list[tuple[Request, Response]] = []

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        self.exchanges.append((request, response))
        return response


def _drive(sb: Sandbox) -> None:
    """The product's main operations, through the real SDK clients."""
    clients = make_clients(sb)
    acr, auth = clients.acr, clients.authorization
    list(acr.registries.list())
    acr.registries.get(RG_CACHE, "contosocache")
    list(acr.credential_sets.list(RG_CACHE, "contosocache"))
    list(acr.cache_rules.list(RG_CACHE, "contosocache"))
    acr.cache_rules.get(RG_CACHE, "contosocache", "ghcr-acme")
    acr.credential_sets.get(RG_CACHE, "contosocache", "ghcr-acme")
    cred_id = f"{acr.registries.get(RG_CACHE, 'contosocache').id}/credentialSets/dockerhub"
    rule = CacheRule(
        source_repository="docker.io/library/nginx",
        target_repository="hub/nginx",
        credential_set_resource_id=cred_id,
    )
    acr.cache_rules.begin_create(RG_CACHE, "contosocache", "hub-nginx", rule).result()
    acr.cache_rules.begin_update(
        RG_CACHE,
        "contosocache",
        "hub-nginx",
        CacheRuleUpdateParameters(credential_set_resource_id=cred_id),
    ).result()
    acr.cache_rules.begin_delete(RG_CACHE, "contosocache", "hub-nginx").result()
    auth_credential = AuthCredential(
        name="Credential1",
        username_secret_identifier="https://kv-cache-rbac.vault.azure.net/secrets/quay-username",
        password_secret_identifier="https://kv-cache-rbac.vault.azure.net/secrets/quay-password",
    )
    created = acr.credential_sets.begin_create(
        RG_CACHE,
        "fabrikamcache",
        "quay-new",
        CredentialSet(
            login_server="quay.io",
            identity=IdentityProperties(type="SystemAssigned"),
            auth_credentials=[auth_credential],
        ),
    ).result()
    acr.credential_sets.begin_update(
        RG_CACHE,
        "fabrikamcache",
        "quay-new",
        CredentialSetUpdateParameters(auth_credentials=[auth_credential]),
    ).result()
    vault = clients.keyvault.vaults.get("rg-secrets", "kv-cache-rbac")
    assert created.identity is not None
    principal = created.identity.principal_id
    list(auth.role_assignments.list_for_scope(vault.id, filter=f"principalId eq '{principal}'"))
    role_id = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
    assignment = auth.role_assignments.create(
        f"{vault.id}/secrets/quay-password",
        str(uuid.uuid4()),
        RoleAssignmentCreateParameters(
            role_definition_id=role_id, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )
    auth.role_assignments.get(assignment.scope, assignment.name)
    auth.role_definitions.get(vault.id, "4633458b-17de-408a-b874-0445c86b69e6")
    list(auth.role_definitions.list(vault.id, filter="roleName eq 'Key Vault Secrets User'"))
    auth.role_assignments.delete(assignment.scope, assignment.name)
    list(clients.secrets.list_properties_of_secret_versions("dockerhub-password"))
    list(clients.secrets.list_properties_of_secrets())
    version = clients.secrets.set_secret("openapi-check", "value").properties.version
    clients.secrets.update_secret_properties("openapi-check", version, enabled=False)
    clients.close()


@cache
def _exchanges() -> tuple[tuple[Request, Response], ...]:
    sb = RecordingSandbox(DEMO)
    _drive(sb)
    return tuple(sb.exchanges)


def _schema_errors(validator: Draft4Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def test_the_drive_covers_the_main_operations() -> None:
    seen = set()
    for request, _ in _exchanges():
        if "operationStatuses" not in request.path:
            seen.add(find_operation(request.host, request.path, request.method)[1:])
    operation_ids = {
        _operation(n, t, v).get("operationId")
        for n, t, v in [(find_spec(t), t, v) for t, v in seen]
    }
    for expected in (
        "Registries_List", "Registries_Get", "CacheRules_List", "CacheRules_Get", "CacheRules_Create",
        "CacheRules_Update", "CacheRules_Delete", "CredentialSets_List", "CredentialSets_Get",
        "CredentialSets_Create", "CredentialSets_Update", "Vaults_Get", "RoleAssignments_Create", "RoleAssignments_Get", "RoleAssignments_Delete", "RoleDefinitions_Get",
        "RoleDefinitions_List", "GetSecretVersions", "GetSecrets", "SetSecret", "UpdateSecret",
    ):  # fmt: skip
        assert expected in operation_ids
    # A vault-scope list matches the spec's more specific ListForResource path.
    assert {"RoleAssignments_ListForScope", "RoleAssignments_ListForResource"} & operation_ids


def find_spec(template: str) -> str:
    for name in SPECS:
        if template in {**_spec(name).get("paths", {}), **_spec(name).get("x-ms-paths", {})}:
            return name
    raise LookupError(template)


def _cases() -> list[tuple[str, Request, Response]]:
    cases = []
    for request, response in _exchanges():
        if "operationStatuses" in request.path or response.status == 401:
            continue  # LRO status polls and the Key Vault challenge are not in the specs
        cases.append((f"{request.method} {request.path}", request, response))
    return cases


@pytest.mark.parametrize(("label", "request_", "response"), _cases(), ids=[c[0] for c in _cases()])
def test_exchange_validates(label: str, request_: Request, response: Response) -> None:
    name, template, verb = find_operation(request_.host, request_.path, request_.method)
    op = _operation(name, template, verb)
    for index, param in enumerate(op.get("parameters", [])):
        if param.get("in") == "body" and request_.body:
            validator = _validator(
                name, _pointer(name, template, verb, "parameters", str(index), "schema")
            )
            assert not _schema_errors(validator, json.loads(request_.body)), label
    status = str(response.status)
    assert status in op["responses"], f"{label}: status {status} not in the spec"
    if "schema" in op["responses"][status] and response.body:
        validator = _validator(name, _pointer(name, template, verb, "responses", status, "schema"))
        errors = _schema_errors(validator, json.loads(response.body))
        assert not errors, f"{label}: {errors}"


def test_error_bodies_validate_against_the_error_schema() -> None:
    sb = Sandbox(DEMO)
    request = Request.from_url(
        "GET",
        f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG_CACHE}/providers/Microsoft.ContainerRegistry/registries/contosocache/cacheRules/nope1?api-version=2025-11-01",
        {"Authorization": "Bearer x"},
    )
    response = sb.handle(request)
    assert response.status == 404
    template = find_operation(request.host, request.path, "GET")[1]
    validator = _validator(
        "containerregistry",
        _pointer("containerregistry", template, "get", "responses", "default", "schema"),
    )
    assert not _schema_errors(validator, response.json())
    assert urlsplit(request.url).path == request.path
