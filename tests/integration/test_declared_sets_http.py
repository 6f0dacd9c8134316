"""The declared credential sets' admin API as the worker calls it: the indexed user functions
over the sandbox, the declarations in the policy table on Azurite; then plan and apply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest
import yaml

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TablePolicyStore
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import demo_settings, sandbox_context
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    policy_store_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite
KV = "https://kv-cache-rbac.vault.azure.net/secrets"
MIRROR = {"loginServer": "quay.io", "username": f"{KV}/quay-username",
          "password": f"{KV}/quay-password", "registries": ["contosocache"]}  # fmt: skip


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox, policy_store: TablePolicyStore) -> Iterator[None]:
    ctx = sandbox_context(sandbox, settings=demo_settings(REMEDIATION_MODE="fix"),
                          policies=policy_store, journal=MemoryJournal(), sleep_scale=0)  # fmt: skip
    bootstrap.configure(context=ctx)
    yield
    bootstrap.reset()


def call(name: str, method: str, *, body: Any = None, raw: bytes | None = None,
         route: dict[str, str] | None = None, params: dict[str, str] | None = None,
         headers: dict[str, str] | None = None) -> func.HttpResponse:  # fmt: skip
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    request = func.HttpRequest(method, f"/api/{name}", body=data, route_params=route or {},
                               params=params or {}, headers=headers or {})  # fmt: skip
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


def one(method: str, name: str = "quay-mirror", **kw: Any) -> func.HttpResponse:
    return call("declared_credential_set", method, route={"name": name}, **kw)


def load(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def test_put_get_delete_with_etags() -> None:
    put = one("PUT", body=MIRROR)
    assert put.status_code == 200 and put.headers["ETag"] == load(put)["etag"]
    assert load(one("GET"))["loginServer"] == "quay.io"
    stale = one("PUT", body=MIRROR | {"registries": ["*"]}, headers={"If-Match": "nope"})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    fresh = one(
        "PUT", body=MIRROR | {"registries": ["*"]}, headers={"If-Match": put.headers["ETag"]}
    )
    assert fresh.status_code == 200 and load(fresh)["registries"] == ["*"]
    listed = load(call("declared_credential_sets", "GET"))["credentialSets"]
    assert [d["name"] for d in listed] == ["quay-mirror"]
    assert one("DELETE", headers={"If-Match": "*"}).status_code == 204
    assert one("GET").status_code == 404
    assert one("DELETE").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (MIRROR | {"username": "https://kv-elsewhere.vault.azure.net/secrets/u"}, 400),
        (MIRROR | {"loginServer": "mcr.microsoft.com"}, 400),
        (MIRROR | {"name": "other-name"}, 400),
        ([1, 2], 400),
    ],
)
def test_bad_declarations_are_refused_and_write_nothing(body: Any, status: int) -> None:
    response = one("PUT", body=body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert load(call("declared_credential_sets", "GET"))["credentialSets"] == []


def test_export_and_import_in_json_and_yaml() -> None:
    one("PUT", body=MIRROR)
    text = call("declared_credential_sets", "GET", params={"format": "yaml"}).get_body()
    document = yaml.safe_load(text)
    assert document["version"] == 1 and document["credentialSets"][0]["name"] == "quay-mirror"
    document["credentialSets"] = [MIRROR | {"name": "quay-second"}]
    dry = call("declared_credential_sets", "PUT", raw=yaml.safe_dump(document).encode(),
               params={"dry_run": "true"}, headers={"Content-Type": "application/yaml"})  # fmt: skip
    assert load(dry) == {"dryRun": True, "written": ["quay-second"], "deleted": ["quay-mirror"]}
    assert [d["name"] for d in load(call("declared_credential_sets", "GET"))["credentialSets"]] == [
        "quay-mirror"
    ]
    done = call("declared_credential_sets", "PUT", body=document)
    assert load(done)["deleted"] == ["quay-mirror"]
    exported = json.loads(
        call("declared_credential_sets", "GET", params={"format": "json"}).get_body()
    )
    assert [d["name"] for d in exported["credentialSets"]] == ["quay-second"]
    bad = call("declared_credential_sets", "PUT", body={"version": 2, "credentialSets": []})
    assert bad.status_code == 400


def test_a_declaration_is_planned_and_applied_through_the_plan_api(sandbox: Sandbox) -> None:
    one("PUT", body=MIRROR)
    scope = {"registry": "contosocache", "credentialSet": "quay-mirror"}
    planned = load(call("plan", "POST", body=scope))
    assert [a["kind"] for a in planned["actions"]] == ["create-credential-set"]
    assert len(planned["actions"][0]["changes"]["grants"]) == 2
    applied = call("apply", "POST", body=scope | {"planId": planned["planId"]})
    assert applied.status_code == 200, applied.get_body()
    assert [o["action"] for o in load(applied)["outcomes"]] == [
        "create-credential-set", "grant-secret-read", "grant-secret-read"
    ]  # fmt: skip
    principal = sandbox.principal_of("contosocache", "quay-mirror")
    assert len(sandbox.role_assignments_for(principal)) == 2
    again = call("apply", "POST", body=scope | {"planId": planned["planId"]})
    assert again.status_code == 409  # the state moved on: the old plan is stale
