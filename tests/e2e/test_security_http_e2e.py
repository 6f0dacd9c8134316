"""Hostile HTTP input against the admin API on the local host.

schemathesis drives every operation of /api/openapi.json (the admin OpenAPI another part of the
app serves) with generated and boundary input: no 5xx and no stack trace in any response. Budget:
SCHEMATHESIS_EXAMPLES per operation (3 in `make test`, more in `make soak`). Every write route also
answers an oversize body with 413, a non-JSON content type with 415, a hostile or malformed JSON
body (deep nesting, a huge integer, a lone surrogate) with 400, and a caller whose Entra ID
principal lacks the admin app role with 403, all as problem+json.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions._http import MAX_BODY_BYTES
from functions.policies import MAX_IMPORT_BYTES
from tests.e2e.host_process import REPO_ROOT, HostProcess, Response, demo_host

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
SETTINGS = REPO_ROOT / "local.settings.example.json"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    # App Service authentication on: the principal headers are trusted (the platform's in Azure)
    with demo_host(
        tmp_path_factory.mktemp("security-e2e"), APP_SERVICE_AUTHENTICATION="true"
    ) as process:
        yield process


def write_operations(host: HostProcess) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation with a JSON request body."""
    document = host.request("GET", "/api/openapi.json").json()
    found: list[tuple[str, str]] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method.upper() in {"POST", "PUT", "PATCH"} and "requestBody" in operation:
                concrete = path.replace("{registry}", "contosocache").replace("{name}", "dockerhub")
                found.append((method.upper(), concrete.replace("{id}", "mcr-all")))
    return found


def assert_problem(reply: Response, status: int) -> None:
    assert reply.status == status, reply.body[:300]
    assert reply.headers.get("content-type", "").startswith("application/problem+json")
    problem = reply.json()
    assert problem["status"] == status
    assert "Traceback" not in reply.body.decode(errors="replace")


def test_every_write_route_has_a_json_body_to_attack(host: HostProcess) -> None:
    operations = write_operations(host)
    assert len(operations) >= 6, operations
    assert ("POST", "/api/repositories") in operations


def test_oversize_bodies_get_413_and_wrong_content_types_415(host: HostProcess) -> None:
    # the largest limit is the policy import's (a whole table); every route refuses more
    oversize = b'{"x": "' + b"a" * max(MAX_BODY_BYTES, MAX_IMPORT_BYTES) + b'"}'
    for method, path in write_operations(host):
        assert_problem(host.request(method, path, body=oversize, headers=JSON), 413)
        for kind in ("application/x-www-form-urlencoded", "application/xml", "image/png"):
            reply = host.request(method, path, body=b"{}", headers={"Content-Type": kind})
            assert_problem(reply, 415)


HOSTILE_BODIES = [
    b"[" * 5000 + b"]" * 5000,  # past the recursion limit
    b'{"registry": ' + b"9" * 5000 + b"}",  # past Python's 4,300 digits
    b'{"registry": "contosocache", "description": "\\ud800"}',  # a lone surrogate
    b'{"priority": 1e400}',
    b"{not json",  # malformed, with a JSON content type: 400, not 415
]


def test_hostile_json_bodies_get_400_and_nothing_is_written(host: HostProcess) -> None:
    before = host.request("GET", "/_sandbox/requests?writes=true").json()["requests"]
    for method, path in write_operations(host):
        for body in HOSTILE_BODIES:
            assert_problem(host.request(method, path, body=body, headers=JSON), 400)
    assert host.request("GET", "/_sandbox/requests?writes=true").json()["requests"] == before


def test_a_newline_in_a_url_path_is_refused(host: HostProcess) -> None:
    before = host.request("GET", "/_sandbox/requests?writes=true").json()["requests"]
    for path, status in (("/api/credential-sets/contosocache/ghcr-acme%0A/sync", 400),
                         ("/api/credential-sets/contosocache%0A/ghcr-acme/sync", 404)):  # fmt: skip
        assert_problem(host.request("POST", path, body=b"{}", headers=JSON), status)
    assert host.request("GET", "/_sandbox/requests?writes=true").json()["requests"] == before


def test_writes_need_the_admin_app_role_behind_entra_id(host: HostProcess) -> None:
    def principal(*roles: str) -> str:
        claims = [{"typ": "roles", "val": r} for r in roles]
        return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()

    for method, path in write_operations(host):
        reader = {**JSON, "X-MS-CLIENT-PRINCIPAL": principal("Cachekeeper.Reader")}
        assert_problem(host.request(method, path, body=b"{}", headers=reader), 403)
        admin = {**JSON, "X-MS-CLIENT-PRINCIPAL": principal("Cachekeeper.Admin")}
        assert host.request(method, path, body=b"{}", headers=admin).status not in (403, 500)


def test_schemathesis_finds_no_server_error_and_no_stack_trace(
    host: HostProcess, tmp_path: Path
) -> None:
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.soak.schemathesis_hooks"}
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{host.base}/api/openapi.json",
         "--checks", "not_a_server_error,no_stack_trace", "--max-examples", str(EXAMPLES),
         "--seed", "20301", "--phases", "examples,coverage,fuzzing", "--workers", "1",
         "--request-timeout", "30", "--generation-database", "none", "--no-color",
         "-H", "x-functions-key: local-test"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary + "\n" + result.stderr[-2000:]
    assert " passed" in summary
    assert "unhandled error" not in host.output()


class _Reply:
    def __init__(self, text: str) -> None:
        self.text = text


@pytest.mark.parametrize(
    "text",
    [
        'Traceback (most recent call last):\n  File "/app/shared/x.py", line 3, in f',
        '{"detail": "KeyError(\'x\') at /work/main/shared/services/audit.py"}',
        "HttpResponseError: azure.core.exceptions.ServiceRequestError",
    ],
)
def test_the_stack_trace_check_catches_leaks(text: str) -> None:
    from tests.soak.schemathesis_hooks import no_stack_trace

    with pytest.raises(AssertionError, match="leaks internals"):
        no_stack_trace(None, _Reply(text), None)
    assert no_stack_trace(None, _Reply('{"title": "Not Found", "status": 404}'), None) is None
