"""The policy admin API and POST /api/repositories as the worker calls them: the indexed user
functions over the sandbox, with the policy table on Azurite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest
import yaml

from functions.policies import MAX_IMPORT_BYTES
from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.adapters.tables import TablePolicyStore
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import sandbox_context
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    policy_store_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox, policy_store: TablePolicyStore) -> Iterator[None]:
    bootstrap.configure(
        context=sandbox_context(sandbox, policies=policy_store, journal=MemoryJournal())
    )
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


def load(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


def export(fmt: str = "json") -> str:
    response = call("export_policies", "GET", params={"format": fmt})
    assert response.status_code == 200
    assert response.mimetype == f"application/{fmt}"
    return response.get_body().decode()


@pytest.fixture
def imported(sandbox: Sandbox) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = list(sandbox.scenario.policies)
    response = call("import_policies", "POST", body={"version": 1, "policies": rows})
    assert response.status_code == 200, response.get_body()
    assert load(response)["created"] == sorted(r["id"] for r in rows)
    return rows


def test_import_export_round_trip_in_json_and_yaml(imported: list[dict[str, Any]]) -> None:
    exported = json.loads(export())["policies"]
    assert [r["id"] for r in exported] == sorted(r["id"] for r in imported)
    assert all(r["changedBy"] == "function key" and r["changedAt"] for r in exported)
    as_yaml = export("yaml")
    assert yaml.safe_load(as_yaml) == {"version": 1, "policies": exported}
    again = call(
        "import_policies",
        "POST",
        raw=as_yaml.encode(),
        headers={"content-type": "application/yaml"},
    )
    assert load(again) | {"warnings": []} == {
        "dryRun": False, "count": 4, "created": [], "updated": [], "deleted": [], "warnings": [],
    }  # fmt: skip
    assert json.loads(export())["policies"] == exported  # unchanged rows keep their stamps


def test_an_import_with_one_invalid_row_writes_nothing_and_names_row_and_problem(
    imported: list[dict[str, Any]],
) -> None:
    before = export()
    rows = [
        *imported[:2],
        {"id": "broken", "upstream": "docker.io/Library/*", "action": "allow"},
        imported[3],
    ]
    response = call("import_policies", "POST", body={"version": 1, "policies": rows})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    detail = load(response)["detail"]
    assert "row 3 (id 'broken')" in detail
    assert "bad upstream pattern" in detail
    assert export() == before


@pytest.mark.parametrize(
    ("document", "content_type"),
    [
        (json.dumps({"version": 99, "policies": []}), "application/json"),
        ("version: 99\npolicies: []\n", "application/yaml"),
        (json.dumps({"policies": []}), "application/json"),
    ],
)
def test_an_import_of_no_or_an_unknown_version_is_a_400_naming_the_supported_ones(
    imported: list[dict[str, Any]], document: str, content_type: str
) -> None:
    before = export()
    for params in ({}, {"allow_empty": "true"}):
        response = call("import_policies", "POST", raw=document.encode(),
                        headers={"content-type": content_type}, params=params)  # fmt: skip
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"
        problem = load(response)
        assert (problem["code"], problem["supportedVersions"]) == (
            "UnsupportedDocumentVersion",
            [1],
        )
        assert "supported versions: 1" in problem["detail"]
    assert export() == before


def test_emptying_the_table_is_a_422_unless_allow_empty(imported: list[dict[str, Any]]) -> None:
    before = export()
    empty = {"version": 1, "policies": []}
    refused = call("import_policies", "POST", body=empty)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert load(refused)["code"] == "EmptyImport"
    assert "allow_empty=true" in load(refused)["detail"]
    assert export() == before
    dry = call(
        "import_policies", "POST", body=empty, params={"allow_empty": "true", "dry_run": "true"}
    )
    assert (dry.status_code, load(dry)["deleted"]) == (200, sorted(r["id"] for r in imported))
    assert export() == before
    emptied = call("import_policies", "POST", body=empty, params={"allow_empty": "true"})
    assert emptied.status_code == 200
    assert json.loads(export()) == {"version": 1, "policies": []}
    assert (
        call("import_policies", "POST", body=empty, params={"allow_empty": "maybe"}).status_code
        == 400
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"credentialSet": "no-such-set"}, "credential set 'no-such-set' does not exist in any managed registry"),
        ({"registry": "contosocache", "credentialSet": "quay-io", "upstream": "docker.io/library/*"}, None),
        ({"registry": "fabrikamcache", "credentialSet": "quay-io"}, "does not exist in registry fabrikamcache"),
        ({"registry": "elsewhere1"}, "not one of the managed registries"),
        ({"id": "export"}, "reserved"),
    ],
)  # fmt: skip
def test_unknown_credential_sets_and_registries_are_refused_at_import(
    imported: list[dict[str, Any]], row: dict[str, Any], problem: str | None
) -> None:
    changed = {**imported[0], **row}
    response = call(
        "import_policies",
        "POST",
        body={"version": 1, "policies": [changed, *imported[1:]]},
        params={"dry_run": "true"},
    )
    if problem is None:
        assert response.status_code == 200, response.get_body()
        assert load(response)["dryRun"] is True
    else:
        assert response.status_code == 400
        assert problem in load(response)["detail"]


def test_a_row_for_every_registry_warns_where_its_credential_set_is_missing(
    imported: list[dict[str, Any]],
) -> None:
    row = {"upstream": "ghcr.io/other/*", "action": "allow", "targetTemplate": "ghcr/other/{path}",
           "credentialSet": "ghcr-acme"}  # fmt: skip
    response = call("policy", "PUT", body=row, route={"id": "ghcr-other"})
    assert response.status_code == 200, response.get_body()
    assert load(response)["warnings"] == [
        "policy 'ghcr-other': credential set 'ghcr-acme' does not exist in fabrikamcache; "
        "requests there will be refused"
    ]


def test_put_and_delete_honour_if_match(imported: list[dict[str, Any]]) -> None:
    got = call("policy", "GET", route={"id": "mcr-all"})
    etag = got.headers["ETag"]
    assert load(got)["etag"] == etag
    changed = {**load(got), "priority": 7}
    del changed["etag"]
    stale = call(
        "policy", "PUT", body=changed, route={"id": "mcr-all"}, headers={"if-match": '"W/stale"'}
    )
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    ok = call("policy", "PUT", body=changed, route={"id": "mcr-all"}, headers={"if-match": etag})
    assert ok.status_code == 200
    assert ok.headers["ETag"] != etag
    replay = call(
        "policy", "PUT", body=changed, route={"id": "mcr-all"}, headers={"if-match": etag}
    )
    assert replay.status_code == 412  # the ETag it was read with is stale now
    assert load(call("policy", "GET", route={"id": "mcr-all"}))["priority"] == 7
    assert (
        call("policy", "DELETE", route={"id": "mcr-all"}, headers={"if-match": etag}).status_code
        == 412
    )
    assert (
        call("policy", "DELETE", route={"id": "mcr-all"}, headers={"if-match": "*"}).status_code
        == 204
    )
    assert call("policy", "GET", route={"id": "mcr-all"}).status_code == 404
    listed = load(call("list_policies", "GET"))["policies"]
    assert [r["id"] for r in listed] == ["dockerhub-deny-rest", "dockerhub-library", "ghcr-acme"]


def test_a_put_whose_body_names_another_id_is_refused(imported: list[dict[str, Any]]) -> None:
    response = call("policy", "PUT", body=imported[0], route={"id": "other-id"})
    assert response.status_code == 400
    assert "does not match" in load(response)["detail"]


@pytest.mark.parametrize(
    ("raw", "headers", "status"),
    [
        (b"{" + b" " * MAX_IMPORT_BYTES + b"}", {}, 413),
        (b"policies: [", {"content-type": "text/yaml"}, 400),
        (b"<policies/>", {"content-type": "application/xml"}, 415),
        (b"{not json", {}, 400),  # the right content type, a malformed body
        (b"[" * 5000 + b"]" * 5000, {}, 400),
        (b'{"policies": [{"priority": ' + b"9" * 5000 + b"}]}", {}, 400),
        (b"policies:" + b" [" * 2000 + b" ]" * 2000, {"content-type": "application/yaml"}, 400),
        (b"policies: [{priority: " + b"9" * 5000 + b"}]", {"content-type": "text/yaml"}, 400),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n"
                % ((c, c) + (c - 1,) * 10)
                for c in range(ord("b"), ord("j"))
            ),
            {"content-type": "application/yaml"},
            400,
        ),  # an alias bomb
    ],
)
def test_bad_import_bodies_are_problems_and_write_nothing(
    imported: list[dict[str, Any]], raw: bytes, headers: dict[str, str], status: int
) -> None:
    before = export()
    response = call("import_policies", "POST", raw=raw, headers=headers)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert export() == before


def test_repositories_endpoint_agrees_with_policies_test_and_creates_once(
    sandbox: Sandbox, imported: list[dict[str, Any]]
) -> None:
    ask = {"upstream": "docker.io/library/busybox", "registry": "fabrikamcache"}
    (tested,) = load(call("test_policies", "POST", body=ask))["results"]
    dry = call("request_repository", "POST", body=ask, params={"dry_run": "true"})
    assert (dry.status_code, sandbox.log.writes()) == (200, [])
    created = call("request_repository", "POST", body=ask)
    assert created.status_code == 201
    for key in ("plan", "decision", "rule"):
        assert tested[key] == load(dry)[key] == load(created)[key]
    assert tested["rule"]["targetRepository"] == "dockerhub/library/busybox"
    again = call("request_repository", "POST", body=ask)
    assert (again.status_code, load(again)["status"]) == (200, "no-change")
    assert len([w for w in sandbox.log.writes() if "/cacheRules/" in w.path]) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"upstream": "docker.io/bitnami/redis", "registry": "fabrikamcache"}, 422),
        ({"target": "dockerhub/library/busybox", "registry": "fabrikamcache"}, 201),
        ({"upstream": "docker.io/library/busybox"}, 400),  # two registries are managed
        ({"upstream": "docker.io/library/busybox", "registry": "elsewhere1"}, 404),
        ({"upstream": "Not An Upstream", "registry": "fabrikamcache"}, 400),
        ({"upstream": "a.io/x", "target": "x/y", "registry": "fabrikamcache"}, 400),
    ],
)
def test_repository_requests_map_to_statuses(
    imported: list[dict[str, Any]], body: dict[str, Any], status: int
) -> None:
    response = call("request_repository", "POST", body=body)
    assert response.status_code == status, response.get_body()
