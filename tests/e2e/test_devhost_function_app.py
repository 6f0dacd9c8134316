"""The real function app under the local host, configured from local.settings.example.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, host_env, run_to_exit

EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.example.json"


@pytest.fixture(scope="module")
def app_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    # Sandbox mode without STORAGE_CONNECTION: the host starts Azurite itself.
    log = tmp_path_factory.mktemp("app") / "host.log"
    host = HostProcess(["--settings", str(EXAMPLE_SETTINGS), "--no-timers"], host_env(), log)
    try:
        host.wait_ready(timeout=60)
        yield host
    finally:
        host.stop()


def test_health_is_liveness_and_status_reports_mode_and_registries(app_host: HostProcess) -> None:
    health = app_host.request("GET", "/api/health")
    assert health.status == 200
    assert health.headers["content-type"].startswith("application/json")
    assert set(health.json()) == {"status", "version"}
    reply = app_host.request("GET", "/api/status")
    assert reply.status == 200
    body = reply.json()
    expected = json.loads(EXAMPLE_SETTINGS.read_text())["Values"]["MANAGED_REGISTRIES"].split(",")
    assert body["mode"] == "sandbox"
    assert isinstance(body["version"], str)
    assert body["version"]
    assert [r.lower() for r in body["managedRegistries"]] == [r.lower() for r in expected]
    assert "Azurite table service started" in app_host.output()


def test_bad_setting_stops_start_up_naming_it(tmp_path: Path) -> None:
    env = host_env(REMEDIATION_MODE="maybe", STORAGE_CONNECTION="UseDevelopmentStorage=true")
    result = run_to_exit(["--settings", str(EXAMPLE_SETTINGS)], env)
    assert result.returncode == 2, result.stderr
    assert "REMEDIATION_MODE" in result.stderr
    assert "maybe" in result.stderr


def test_kept_reports_and_the_latest_are_both_reachable(app_host: HostProcess) -> None:
    json_body = {"Content-Type": "application/json"}
    ran = app_host.request("POST", "/api/audit?dry_run=true", body=b"{}", headers=json_body)
    assert ran.status == 200, ran.body
    report_id = ran.json()["id"]
    latest = app_host.request("GET", "/api/audit/latest")
    assert latest.status == 200, latest.body
    assert latest.json()["id"] == report_id
    kept = app_host.request("GET", f"/api/audit/reports/{report_id}")
    assert kept.status == 200, kept.body
    assert kept.json()["id"] == report_id
    missing = app_host.request("GET", "/api/audit/reports/latest")
    assert missing.status == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_the_policy_table_exports_at_its_own_path(app_host: HostProcess) -> None:
    exported = app_host.request("GET", "/api/export/policies?format=yaml")
    assert exported.status == 200, exported.body
    assert exported.headers["content-type"].startswith("application/yaml")


def test_a_schedule_the_host_would_refuse_stops_start_up_naming_it() -> None:
    env = host_env(AUDIT_SCHEDULE="0 0 9 * * 7", STORAGE_CONNECTION="UseDevelopmentStorage=true")
    result = run_to_exit(["--settings", str(EXAMPLE_SETTINGS)], env)
    assert result.returncode == 2, result.stderr
    assert "AUDIT_SCHEDULE" in result.stderr
    assert "day-of-week value 7" in result.stderr
