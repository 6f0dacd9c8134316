"""The API docs page in headless Chromium against the local host: it renders every operation of
the served OpenAPI document, with its response schema, from this app alone (no CDN: every
request it makes is to the host) and without a console or CSP error."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, host_env
from tests.e2e.test_dashboard_e2e import EXAMPLE_SETTINGS

PROBE = Path(__file__).with_name("docs_probe.mjs")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    log = tmp_path_factory.mktemp("docs") / "host.log"
    process = HostProcess(["--settings", str(EXAMPLE_SETTINGS), "--no-timers"], host_env(), log)
    try:
        process.wait_ready(timeout=60)
        yield process
    finally:
        process.stop()


def test_the_docs_page_renders_every_operation_from_the_app_alone(
    host: HostProcess, tmp_path: Path
) -> None:
    served = host.request("GET", "/api/docs")
    assert served.status == 200
    assert "script-src 'sha256-" in served.headers["content-security-policy"]
    assert b"<script src" not in served.body and b"https://" not in served.body
    node = shutil.which("node")
    assert node is not None
    shot = tmp_path / "docs.png"
    result = subprocess.run(
        [node, str(PROBE), f"{host.base}/api/docs", str(shot), str(tmp_path / "profile")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["loaded"] == "true"
    assert (found["consoleErrors"], found["pageErrors"], found["failedRequests"]) == ([], [], [])
    document = host.request("GET", "/api/openapi.json").json()
    wanted = [
        op["operationId"] for methods in document["paths"].values() for op in methods.values()
    ]
    assert sorted(found["operations"]) == sorted(wanted)
    assert "days" in found["historyText"] and "actionsPerDay" in found["historyText"]
    assert all(url.startswith(host.base) for url in found["requests"])
    assert shot.stat().st_size > 10_000
