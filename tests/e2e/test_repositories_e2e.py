"""New repositories end to end: the policy table decides, over HTTP through the local host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.host_process import HostProcess, Response, demo_host

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("repositories")) as process:
        yield process


def post(host: HostProcess, path: str, body: Any) -> Response:
    return host.request("POST", path, body=json.dumps(body).encode(), headers=JSON)


def rule_puts(host: HostProcess) -> list[str]:
    records = host.request("GET", "/_sandbox/requests?writes=true").json()["requests"]
    return [r["path"] for r in records if r["method"] == "PUT" and "/cacheRules/" in r["path"]]


def test_an_allowed_upstream_gets_exactly_one_rule_and_the_dry_run_said_so(
    host: HostProcess,
) -> None:
    request = {"upstream": "docker.io/library/alpine", "registry": "fabrikamcache"}
    tested = post(host, "/api/policies/test", {"upstream": "docker.io/library/alpine"})
    assert tested.status == 200, tested.body
    planned = post(host, "/api/repositories?dry_run=true", request)
    assert planned.status == 200, planned.body
    (action,) = planned.json()["plan"]["actions"]
    assert rule_puts(host) == []

    created = post(host, "/api/repositories", request)
    assert created.status == 201, created.body
    (outcome,) = created.json()["outcomes"]
    assert outcome["resource"] == action["resource"]
    assert outcome["after"]["targetRepository"] == "dockerhub/library/alpine"
    assert outcome["after"]["credentialSet"] == "dockerhub"
    assert len(rule_puts(host)) == 1

    again = post(host, "/api/repositories", request)
    assert again.status == 200
    assert again.json()["status"] == "no-change"
    assert len(rule_puts(host)) == 1


def test_a_denied_upstream_is_refused_with_the_reason_and_nothing_written(
    host: HostProcess,
) -> None:
    before = rule_puts(host)
    refused = post(
        host,
        "/api/repositories",
        {"upstream": "docker.io/bitnami/redis", "registry": "fabrikamcache"},
    )
    assert refused.status == 422, refused.body
    assert "dockerhub-deny-rest" in refused.json()["reason"]
    assert rule_puts(host) == before
