"""The sandbox's registry-authentication surface against the ARM spec 2025-11-01: the examples
(Token*, ScopeMap*, RegistryUpdate) replay, and what the real SDK sends for tokens, scope maps,
registry updates and credentials, and what the sandbox answers, validate against the spec."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox import Sandbox
from tests.contract.test_sandbox_examples import (
    ACR,
    CR,
    _url,
    acr_scenario,
    assert_like,
    load,
    send,
)
from tests.contract.test_sandbox_openapi import (
    RecordingSandbox,
    _operation,
    _pointer,
    _schema_errors,
    _validator,
    find_operation,
)
from tests.integration.conftest import DEMO, RG_CACHE, make_clients


def auth_scenario() -> dict[str, Any]:
    """myRegistry with myScopeMap (the examples' actions) and myToken bound to it."""
    scenario = acr_scenario()
    scenario["registries"][0]["scopeMaps"] = [{
        "name": "myScopeMap", "description": "Developer Scopes",
        "actions": ["repositories/myrepository/contentWrite", "repositories/myrepository/delete"],
    }]  # fmt: skip
    scenario["registries"][0]["tokens"] = [{"name": "myToken", "scopeMap": "myScopeMap"}]
    return scenario


@pytest.mark.parametrize(
    ("rel", "template"),
    [
        (CR + "TokenGet.json", ACR + "/tokens/{tokenName}"),
        (CR + "TokenList.json", ACR + "/tokens"),
        (CR + "ScopeMapGet.json", ACR + "/scopeMaps/{scopeMapName}"),
        (CR + "ScopeMapList.json", ACR + "/scopeMaps"),
    ],
)
def test_token_and_scope_map_reads_replay(rel: str, template: str) -> None:
    example = load(rel)
    status, _, body = send(Sandbox(auth_scenario()), "GET", _url(template, example["parameters"]))
    assert status == 200
    assert_like(example["responses"]["200"]["body"], body)


def test_scope_map_create_replays() -> None:
    example = load(CR + "ScopeMapCreate.json")
    url = _url(ACR + "/scopeMaps/{scopeMapName}", example["parameters"])
    sb = Sandbox(acr_scenario())
    status, _, body = send(sb, "PUT", url, example["parameters"]["scopeMapCreateParameters"])
    assert status == 201
    assert_like(example["responses"]["200"]["body"], body)
    assert send(sb, "PUT", url, example["parameters"]["scopeMapCreateParameters"])[0] == 200


def test_registry_update_replays() -> None:
    example = load(CR + "RegistryUpdate.json")
    status, _, body = send(Sandbox(acr_scenario()), "PATCH", _url(ACR, example["parameters"]),
                           example["parameters"]["registryUpdateParameters"])  # fmt: skip
    assert status == 200
    expected = example["responses"]["200"]["body"]
    assert body["properties"]["adminUserEnabled"] is True
    assert body["properties"]["roleAssignmentMode"] == expected["properties"]["roleAssignmentMode"]
    assert body["sku"] == expected["sku"] and body["tags"] == expected["tags"]


def _drive(sb: Sandbox) -> None:
    clients = make_clients(sb)
    acr = clients.acr
    acr.registries.begin_update(RG_CACHE, "contosocache", {"properties": {
        "adminUserEnabled": True, "roleAssignmentMode": "AbacRepositoryPermissions"}}).result()  # fmt: skip
    acr.registries.list_credentials(RG_CACHE, "contosocache")
    scope_map = acr.scope_maps.begin_create(RG_CACHE, "contosocache", "team-a-pull", {
        "properties": {"actions": ["repositories/team-a/api/content/read"]}}).result()  # fmt: skip
    acr.scope_maps.begin_update(RG_CACHE, "contosocache", "team-a-pull", {
        "properties": {"actions": ["repositories/team-a/*/content/read"]}}).result()  # fmt: skip
    token = acr.tokens.begin_create(RG_CACHE, "contosocache", "ci-puller", {
        "properties": {"scopeMapId": scope_map.id, "status": "enabled"}}).result()  # fmt: skip
    acr.registries.begin_generate_credentials(RG_CACHE, "contosocache", {
        "tokenId": token.id, "expiry": "2030-01-01T00:00:00Z"}).result()  # fmt: skip
    acr.tokens.begin_update(RG_CACHE, "contosocache", "ci-puller",
                            {"properties": {"status": "disabled"}}).result()  # fmt: skip
    list(acr.tokens.list(RG_CACHE, "contosocache"))
    list(acr.scope_maps.list(RG_CACHE, "contosocache"))
    acr.tokens.get(RG_CACHE, "contosocache", "ci-puller")
    acr.scope_maps.get(RG_CACHE, "contosocache", "team-a-pull")
    acr.tokens.begin_delete(RG_CACHE, "contosocache", "ci-puller").result()
    acr.scope_maps.begin_delete(RG_CACHE, "contosocache", "team-a-pull").result()
    clients.close()


def _cases() -> list[tuple[str, Any, Any]]:
    sb = RecordingSandbox(DEMO)
    _drive(sb)
    return [(f"{q.method} {q.path.rsplit('/', 2)[-2:]}", q, r) for q, r in sb.exchanges]


CASES = _cases()


def test_the_drive_covers_the_authentication_operations() -> None:
    ids = {
        _operation(*find_operation(q.host, q.path, q.method)).get("operationId")
        for _, q, _ in CASES
    }
    assert {
        "Registries_Update", "Registries_ListCredentials", "Registries_GenerateCredentials",
        "ScopeMaps_Create", "ScopeMaps_Update", "ScopeMaps_List", "ScopeMaps_Get", "ScopeMaps_Delete",
        "Tokens_Create", "Tokens_Update", "Tokens_List", "Tokens_Get", "Tokens_Delete",
    } <= ids  # fmt: skip


@pytest.mark.parametrize(("label", "request_", "response"), CASES, ids=[c[0] for c in CASES])
def test_authentication_exchanges_validate(label: str, request_: Any, response: Any) -> None:
    name, template, verb = find_operation(request_.host, request_.path, request_.method)
    op = _operation(name, template, verb)
    for index, param in enumerate(op.get("parameters", [])):
        if param.get("in") == "body" and request_.body:
            pointer = _pointer(name, template, verb, "parameters", str(index), "schema")
            assert not _schema_errors(_validator(name, pointer), json.loads(request_.body)), label
    status = str(response.status)
    assert status in op["responses"], f"{label}: status {status} not in the spec"
    if "schema" in op["responses"][status] and response.body:
        pointer = _pointer(name, template, verb, "responses", status, "schema")
        errors = _schema_errors(_validator(name, pointer), json.loads(response.body))
        assert not errors, f"{label}: {errors}"
