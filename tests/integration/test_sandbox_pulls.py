"""The sandbox authorizes pulls as ACR does: ARM `tokens`, `scopeMaps`, `adminUserEnabled` and
`roleAssignmentMode` through the real SDK, the data plane (`/oauth2/exchange`, `/oauth2/token`,
`/v2/<repo>/manifests/<ref>`) over plain HTTP against `python -m sandbox`'s server."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from sandbox import Sandbox
from sandbox.pull_controls import entra_access_token
from tests.integration.conftest import RG_CACHE, SdkClients

REGISTRY = "contosocache"
HOST = "contosocache.azurecr.io"
KUBELET = "6f1d3c2a-0000-4000-8000-0000000000a1"
REPO_READER = "Container Registry Repository Reader"
ONLY_TEAM_A_API = (
    "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND "
    "!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR "
    "(@Request[Microsoft.ContainerRegistry/registries/repositories:name] "
    "StringEqualsIgnoreCase 'team-a/api'))"
)


def _http(
    base: str, method: str, path: str, *, headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(base + path, data=body, method=method)  # noqa: S310
    request.add_header("Host", HOST)
    if form is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else {}


def _entra_pull(base: str, object_id: str, repository: str) -> int:
    """The two-hop Entra flow a docker/containerd client runs, then the manifest GET."""
    status, answer = _http(base, "POST", "/oauth2/exchange", form={
        "grant_type": "access_token", "service": HOST,
        "access_token": entra_access_token(object_id),
    })  # fmt: skip
    if status != 200:
        return status
    status, answer = _http(base, "POST", "/oauth2/token", form={
        "grant_type": "refresh_token", "service": HOST,
        "scope": f"repository:{repository}:pull", "refresh_token": answer["refresh_token"],
    })  # fmt: skip
    assert status == 200, "the token server grants the intersection, it does not refuse"
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}
    return _http(base, "GET", f"/v2/{repository}/manifests/latest", headers=bearer)[0]


def _basic_pull(base: str, user: str, password: str, repository: str) -> int:
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    query = urllib.parse.urlencode({"service": HOST, "scope": f"repository:{repository}:pull"})
    status, answer = _http(base, "GET", f"/oauth2/token?{query}",
                           headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    if status != 200:
        return status
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}
    return _http(base, "GET", f"/v2/{repository}/manifests/latest", headers=bearer)[0]


def _registry_id(sandbox: Sandbox) -> str:
    return sandbox.registry(REGISTRY).id


def test_an_identity_without_a_role_cannot_pull_until_acr_pull_takes_effect(
    sandbox: Sandbox, server: str, sdk_clients: SdkClients
) -> None:
    sandbox.clock.set("2026-06-01T00:00:00Z")
    assert _entra_pull(server, KUBELET, "team-a/api") == 401
    sdk_clients.authorization.role_assignments.create(
        _registry_id(sandbox),
        "0c0ffee0-0000-4000-8000-000000000001",
        {"properties": {
            "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/"
                                "7f951dda-4ed3-4680-a7ca-43fe172d538d",
            "principalId": KUBELET, "principalType": "ServicePrincipal",
        }},
    )  # fmt: skip
    sandbox.clock.advance(119)  # the tier's RBAC delay is 120 s
    assert _entra_pull(server, KUBELET, "team-a/api") == 401
    sandbox.clock.advance(1)
    assert _entra_pull(server, KUBELET, "team-a/api") == 200
    rows = [r for r in sandbox.pull_log("ContainerRegistryRepositoryEvents")
            if r["Identity"] == KUBELET]  # fmt: skip
    assert [r["ResultDescription"] for r in rows] == ["401", "401", "200"]
    assert rows[-1]["Repository"] == "team-a/api" and rows[-1]["Tag"] == "latest"
    assert rows[-1]["LoginServer"] == HOST and rows[-1]["OperationName"] == "Pull"


@pytest.mark.instant_azure
def test_inherited_and_broad_roles_pull_in_legacy_mode(sandbox: Sandbox, server: str) -> None:
    rg_scope = _registry_id(sandbox).split("/providers/")[0]
    sandbox.add_role_assignment(KUBELET, "Reader", rg_scope)  # */read covers pull/read
    assert _entra_pull(server, KUBELET, "team-a/api") == 200
    other = "6f1d3c2a-0000-4000-8000-0000000000b2"
    sandbox.add_role_assignment(other, REPO_READER, _registry_id(sandbox))
    assert _entra_pull(server, other, "team-a/api") == 401, "data-action roles need ABAC mode"


@pytest.mark.instant_azure
def test_abac_mode_honours_the_repository_reader_only_for_its_repository(
    sandbox: Sandbox, server: str, sdk_clients: SdkClients
) -> None:
    updated = sdk_clients.acr.registries.begin_update(
        RG_CACHE, REGISTRY, {"properties": {"roleAssignmentMode": "AbacRepositoryPermissions"}}
    ).result()
    assert updated.properties.role_assignment_mode == "AbacRepositoryPermissions"
    sandbox.add_role_assignment(KUBELET, "AcrPull", _registry_id(sandbox))
    assert _entra_pull(server, KUBELET, "team-a/api") == 401, "AcrPull is not honoured in ABAC mode"
    sandbox.add_role_assignment(KUBELET, REPO_READER, _registry_id(sandbox),
                                condition=ONLY_TEAM_A_API)  # fmt: skip
    assert _entra_pull(server, KUBELET, "team-a/api") == 200
    assert _entra_pull(server, KUBELET, "team-a/worker") == 401


@pytest.mark.instant_azure
def test_credentials_issued_before_a_mode_switch_are_refused(sandbox: Sandbox, server: str) -> None:
    sandbox.add_role_assignment(KUBELET, "AcrPull", _registry_id(sandbox))
    _, answer = _http(server, "POST", "/oauth2/exchange", form={
        "grant_type": "access_token", "service": HOST,
        "access_token": entra_access_token(KUBELET),
    })  # fmt: skip
    sandbox.set_role_assignment_mode(REGISTRY, "AbacRepositoryPermissions")
    sandbox.add_role_assignment(KUBELET, REPO_READER, _registry_id(sandbox))
    status, _ = _http(server, "POST", "/oauth2/token", form={
        "grant_type": "refresh_token", "service": HOST, "scope": "repository:team-a/api:pull",
        "refresh_token": answer["refresh_token"],
    })  # fmt: skip
    assert status == 401
    assert _entra_pull(server, KUBELET, "team-a/api") == 200, "a fresh login works"


def test_the_admin_user_pulls_only_when_enabled(
    sandbox: Sandbox, server: str, sdk_clients: SdkClients
) -> None:
    acr = sdk_clients.acr.registries
    assert acr.get(RG_CACHE, REGISTRY).properties.admin_user_enabled is False
    credentials = acr.list_credentials(RG_CACHE, REGISTRY)
    assert credentials.username == REGISTRY and len(credentials.passwords) == 2
    password = credentials.passwords[0].value
    assert _basic_pull(server, REGISTRY, password, "team-a/api") == 401
    acr.begin_update(RG_CACHE, REGISTRY, {"properties": {"adminUserEnabled": True}}).result()
    assert acr.get(RG_CACHE, REGISTRY).properties.admin_user_enabled is True
    assert _basic_pull(server, REGISTRY, password, "team-a/api") == 200
    assert _basic_pull(server, REGISTRY, credentials.passwords[1].value, "team-a/worker") == 200
    assert _basic_pull(server, REGISTRY, "not-the-password", "team-a/api") == 401
    refused = sandbox.pull_log("ContainerRegistryLoginEvents")
    assert [r["Identity"] for r in refused] == [REGISTRY, REGISTRY]
    assert all(password not in json.dumps(r) for r in sandbox.pull_log())


def test_tokens_pull_what_their_scope_map_reads(
    sandbox: Sandbox, server: str, sdk_clients: SdkClients
) -> None:
    acr = sdk_clients.acr
    scope_map = acr.scope_maps.begin_create(RG_CACHE, REGISTRY, "team-a-pull", {
        "properties": {"actions": ["repositories/team-a/api/content/read",
                                   "repositories/dockerhub/library/*/content/read"]},
    }).result()  # fmt: skip
    token = acr.tokens.begin_create(RG_CACHE, REGISTRY, "ci-puller", {
        "properties": {"scopeMapId": scope_map.id, "status": "enabled"},
    }).result()  # fmt: skip
    generated = acr.registries.begin_generate_credentials(
        RG_CACHE, REGISTRY, {"tokenId": token.id, "name": "password1"}
    ).result()
    password = generated.passwords[0].value
    assert generated.username == "ci-puller" and password
    listed = list(acr.tokens.list(RG_CACHE, REGISTRY))
    assert [t.name for t in listed] == ["ci-puller"]
    assert listed[0].properties.credentials.passwords[0].value is None, "values are shown once"
    assert [m.name for m in acr.scope_maps.list(RG_CACHE, REGISTRY)] == ["team-a-pull"]

    assert _basic_pull(server, "ci-puller", password, "team-a/api") == 200
    assert _basic_pull(server, "ci-puller", password, "dockerhub/library/nginx") == 200
    assert _basic_pull(server, "ci-puller", password, "team-a/worker") == 403

    acr.scope_maps.begin_update(RG_CACHE, REGISTRY, "team-a-pull", {
        "properties": {"actions": ["repositories/team-a/*/content/read"]},
    }).result()  # fmt: skip
    assert _basic_pull(server, "ci-puller", password, "team-a/worker") == 200, "applies at once"

    acr.tokens.begin_update(RG_CACHE, REGISTRY, "ci-puller",
                            {"properties": {"status": "disabled"}}).result()  # fmt: skip
    assert _basic_pull(server, "ci-puller", password, "team-a/api") == 401


def test_an_expired_token_password_is_refused(sandbox: Sandbox, server: str) -> None:
    sandbox.clock.set("2026-06-01T00:00:00Z")
    password = sandbox.add_token(REGISTRY, "ci-puller", ["repositories/team-a/*/content/read"],
                                 expiry="2026-06-02T00:00:00Z")  # fmt: skip
    assert _basic_pull(server, "ci-puller", password, "team-a/api") == 200
    sandbox.clock.advance(days=1)
    assert _basic_pull(server, "ci-puller", password, "team-a/api") == 401
    assert sandbox.pull_log("ContainerRegistryLoginEvents")[-1]["Identity"] == "ci-puller"


@pytest.mark.instant_azure
def test_a_cached_repository_fails_upstream_when_its_credential_set_is_unhealthy(
    sandbox: Sandbox, server: str
) -> None:
    sandbox.add_role_assignment(KUBELET, "AcrPull", _registry_id(sandbox))
    assert _entra_pull(server, KUBELET, "dockerhub/library/nginx") == 200
    assert "dockerhub/library/nginx" in sandbox.registry(REGISTRY).repositories, "now cached"
    sandbox.disable_secret_version("kv-cache-rbac", "dockerhub-password")
    assert sandbox.health(REGISTRY, "dockerhub").status == "Unhealthy"
    assert _entra_pull(server, KUBELET, "dockerhub/library/redis") == 401
    assert _entra_pull(server, KUBELET, "team-a/api") == 200, "other repositories are unaffected"
    failed = sandbox.pull_log("ContainerRegistryRepositoryEvents")[-2]
    assert failed["Repository"] == "dockerhub/library/redis" and failed["Identity"] == KUBELET


def test_upstream_failures_do_not_wait_for_the_reported_health(sandbox: Sandbox) -> None:
    """credentialHealth lags (the tier re-evaluates every 60 s); the upstream pull does not."""
    sandbox.clock.set("2026-06-01T00:00:00Z")
    sandbox.set_admin_user(REGISTRY, True)
    assert sandbox.health(REGISTRY, "dockerhub").status == "Healthy"
    sandbox.disable_secret_version("kv-cache-rbac", "dockerhub-password")
    assert sandbox.health(REGISTRY, "dockerhub").status == "Healthy", "not re-evaluated yet"
    assert sandbox.pull(REGISTRY, "dockerhub/library/nginx", admin=True) == 401
    row = sandbox.pull_log("ContainerRegistryRepositoryEvents")[-1]
    assert row["Identity"] == REGISTRY and row["ResultDescription"] == "401"


@pytest.mark.instant_azure
def test_unknown_answers_are_options() -> None:
    sb = Sandbox({"registries": [{"name": REGISTRY, "resourceGroup": RG_CACHE,
                                  "repositories": ["team-a/api"]}]},
                 rbac_denied_status=403, exchange_requires_role=True)  # fmt: skip
    assert sb.pull(REGISTRY, "team-a/api", as_principal=KUBELET) == 401, "refused at exchange"
    sb.add_role_assignment(KUBELET, "Key Vault Secrets User", sb.registry(REGISTRY).id)
    assert sb.pull(REGISTRY, "team-a/api", as_principal=KUBELET) == 403, "DENIED at the manifest"
    password = sb.add_token(REGISTRY, "ci-puller", ["repositories/other/content/read"])
    sb.options.token_denied_status = 401
    assert sb.pull(REGISTRY, "team-a/api", token="ci-puller", password=password) == 401


def test_the_control_api_pulls_and_switches_the_admin_user(sandbox: Sandbox, server: str) -> None:
    def control(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the test's own server
            f"{server}/_sandbox{path}", data=json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    pull = {"repository": "team-a/api", "admin": True}
    assert control("POST", f"/registries/{REGISTRY}/pull", pull) == {"status": 401}
    control("POST", f"/registries/{REGISTRY}/adminUser", {"enabled": True})
    assert control("POST", f"/registries/{REGISTRY}/pull", pull) == {"status": 200}
    token = control("POST", f"/registries/{REGISTRY}/tokens",
                    {"name": "ci-puller", "actions": ["repositories/team-a/api/content/read"]})  # fmt: skip
    by_token = {"repository": "team-a/api", "token": "ci-puller", "password": token["password"]}
    assert control("POST", f"/registries/{REGISTRY}/pull", by_token) == {"status": 200}
    with pytest.raises(urllib.error.HTTPError) as bad:
        control("POST", f"/registries/{REGISTRY}/pull", {"admin": True})
    assert bad.value.code == 400
    options = control("POST", "/pullOptions", {"tokenDeniedStatus": 401})
    assert options == {
        "directoryReadable": True,
        "exchangeRequiresRole": False,
        "rbacDeniedStatus": 401,
        "tokenDeniedStatus": 401,
    }
    other = {**by_token, "repository": "team-a/worker"}
    assert control("POST", f"/registries/{REGISTRY}/pull", other) == {"status": 401}
    for wrong in ({"tokenDeniedStatus": 500}, {"exchangeRequiresRole": "yes"}, {"speed": 1}):
        with pytest.raises(urllib.error.HTTPError) as refused:
            control("POST", "/pullOptions", wrong)
        assert refused.value.code == 400, wrong


def test_bad_token_and_scope_map_writes_are_typed_4xx(sdk_clients: SdkClients) -> None:
    acr = sdk_clients.acr
    acr.scope_maps.begin_create(RG_CACHE, REGISTRY, "team-a-pull",
                                {"properties": {"actions": []}}).result()  # fmt: skip
    map_id = f"{acr_id(sdk_clients)}/scopeMaps/team-a-pull"
    for credentials in ({"passwords": 7}, {"passwords": [{"name": "password9"}]},
                        {"passwords": [{"name": "password1", "expiry": "soon"}]}):  # fmt: skip
        with pytest.raises(HttpResponseError) as bad:
            acr.tokens.begin_create(RG_CACHE, REGISTRY, "ci-puller", {
                "properties": {"scopeMapId": map_id, "credentials": credentials},
            }).result()  # fmt: skip
        assert bad.value.status_code == 400, credentials
    with pytest.raises(HttpResponseError) as missing_map:
        acr.tokens.begin_create(RG_CACHE, REGISTRY, "ci-puller", {
            "properties": {"scopeMapId": f"{acr_id(sdk_clients)}/scopeMaps/nope"},
        }).result()  # fmt: skip
    assert missing_map.value.status_code == 400
    with pytest.raises(HttpResponseError) as no_actions:
        acr.scope_maps.begin_create(RG_CACHE, REGISTRY, "team-a-pull", {"properties": {}}).result()
    assert no_actions.value.status_code == 400
    with pytest.raises(HttpResponseError) as bad_mode:
        acr.registries.begin_update(
            RG_CACHE, REGISTRY, {"properties": {"roleAssignmentMode": "Everything"}}
        ).result()
    assert bad_mode.value.status_code == 400


def acr_id(clients: SdkClients) -> str:
    return clients.sandbox.registry(REGISTRY).id


def test_an_identified_caller_still_reads_the_catalog(server: str) -> None:
    _, answer = _http(server, "POST", "/oauth2/exchange", form={
        "grant_type": "access_token", "service": HOST,
        "access_token": entra_access_token(KUBELET),
    })  # fmt: skip
    _, answer = _http(server, "POST", "/oauth2/token", form={
        "grant_type": "refresh_token", "service": HOST, "scope": "registry:catalog:*",
        "refresh_token": answer["refresh_token"],
    })  # fmt: skip
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}
    status, catalog = _http(server, "GET", "/acr/v1/_catalog", headers=bearer)
    assert status == 200 and "team-a/api" in catalog["repositories"]


def test_the_state_summary_shows_tokens_without_password_values(
    sandbox: Sandbox, server: str
) -> None:
    password = sandbox.add_token(REGISTRY, "ci-puller", ["repositories/team-a/api/content/read"])
    sandbox.set_admin_user(REGISTRY, True)
    with urllib.request.urlopen(f"{server}/_sandbox/state", timeout=10) as reply:  # noqa: S310
        text = reply.read().decode()
    assert password not in text and sandbox.admin_password(REGISTRY) not in text
    summary = next(r for r in json.loads(text)["registries"] if r["name"] == REGISTRY)
    assert summary["adminUserEnabled"] is True
    assert [t["name"] for t in summary["tokens"]] == ["ci-puller"]


@pytest.mark.instant_azure
def test_refresh_and_access_tokens_are_not_interchangeable(sandbox: Sandbox, server: str) -> None:
    sandbox.add_role_assignment(KUBELET, "AcrPull", _registry_id(sandbox))
    _, refresh = _http(server, "POST", "/oauth2/exchange", form={
        "grant_type": "access_token", "service": HOST,
        "access_token": entra_access_token(KUBELET),
    })  # fmt: skip
    as_bearer = {"Authorization": f"Bearer {refresh['refresh_token']}"}
    assert _http(server, "GET", "/v2/team-a/api/manifests/latest", headers=as_bearer)[0] == 401
    _, access = _http(server, "POST", "/oauth2/token", form={
        "grant_type": "refresh_token", "service": HOST, "scope": "repository:team-a/api:pull",
        "refresh_token": refresh["refresh_token"],
    })  # fmt: skip
    status, _ = _http(server, "POST", "/oauth2/token", form={
        "grant_type": "refresh_token", "service": HOST, "scope": "repository:team-a/api:pull",
        "refresh_token": access["access_token"],
    })  # fmt: skip
    assert status == 401
    status, _ = _http(server, "HEAD", "/v2/team-a/api/manifests/latest",
                      headers={"Authorization": f"Bearer {access['access_token']}"})  # fmt: skip
    assert status == 200
