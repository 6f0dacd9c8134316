"""schemathesis against openapi.json on the local host: whatever it sends, no 5xx, and every
answer conforms to the response schema the document gives for its status.

A small budget (a few examples per operation, fixed seed) keeps `make test` fast; the coverage
phase still sends boundary values, wrong types and unsupported methods to every route.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, demo_host

EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.example.json"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("schemathesis")) as process:
        yield process


def test_the_document_lists_the_routes_the_host_serves(host: HostProcess) -> None:
    reply = host.request("GET", "/api/openapi.json")
    assert reply.status == 200
    paths = reply.json()["paths"]
    for path, methods in paths.items():
        if "{" in path:
            continue
        for method in methods:
            # the host routes it: anything but "no function matches this path"
            answer = host.request(method.upper(), path, body=b"{}",
                                  headers={"Content-Type": "application/json"})  # fmt: skip
            assert b"no function matches" not in answer.body, (method, path)


def test_schemathesis_finds_no_server_error(host: HostProcess, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{host.base}/api/openapi.json",
         "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "5", "--seed", "20251123",
         "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "30",
         "--generation-database", "none", "--no-color", "-H", "x-functions-key: local-test",
         "--report", "junit", "--report-junit-path", str(junit)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary + "\n" + host.output()[-3000:]
    assert "passed" in summary
    log = host.output()
    assert "(Failed)" not in log and "unhandled error" not in log  # nothing raised behind a 4xx
    assert json.dumps(summary).count("ST101") == 0
