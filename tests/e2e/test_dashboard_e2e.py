"""The dashboard in headless Chromium (Debian's chromium, driven by playwright-core) against the
local host on the demo scenario: it renders the scenario's data, runs an audit from its button,
escapes what it shows, and logs no console error.

`make test` installs chromium (`make chromium`) and playwright-core (npm) first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.host_process import REPO_ROOT, HostProcess, host_env

EXAMPLE_SETTINGS = REPO_ROOT / "local.settings.example.json"
PROBE = Path(__file__).with_name("dashboard_probe.mjs")
MARKUP = '<img src=x onerror="window.__xss=1">'
NOTIFICATION = {"Content-Type": "application/json", "aeg-event-type": "Notification"}


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    log = tmp_path_factory.mktemp("dashboard") / "host.log"
    process = HostProcess(["--settings", str(EXAMPLE_SETTINGS), "--no-timers"], host_env(), log)
    try:
        process.wait_ready(timeout=60)
        policies = yaml.safe_load((REPO_ROOT / "sandbox/scenarios/demo.yaml").read_text())[
            "policies"
        ]
        imported = process.request("POST", "/api/policies/import", body=json.dumps({"version": 1, "policies": policies}).encode(),
                                   headers={"Content-Type": "application/json"})  # fmt: skip
        assert imported.status == 200, imported.body
        yield process
    finally:
        process.stop()


def probe(host: HostProcess, tmp_path: Path, *flags: str, query: str = "") -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed (it runs Azurite too)"
    shot = tmp_path / "dashboard.png"
    result = subprocess.run(
        [node, str(PROBE), f"{host.base}/api/dashboard{query}", str(shot), str(tmp_path / "profile"), *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:] + host.output()[-2000:]
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    return found


def clean(found: dict[str, Any]) -> None:
    assert found["loaded"] == "true", found["error"]
    assert found["consoleErrors"] == []
    assert found["pageErrors"] == []
    assert found["failedRequests"] == []
    assert found["dialogs"] == []


def test_the_dashboard_shows_the_scenario_and_an_audit_run_from_its_button(
    host: HostProcess, tmp_path: Path
) -> None:
    found = probe(host, tmp_path, "--audit")
    clean(found)
    assert found["registries"] == ["contosocache", "fabrikamcache"]
    quay = next(row for row in found["credentialSets"] if row[:2] == ["contosocache", "quay-io"])
    assert quay[3].startswith("Unhealthy") and "AccessDenied" in quay[3]
    assert "expiring" in quay[5]  # its password
    ghcr = next(row for row in found["credentialSets"] if row[:2] == ["contosocache", "ghcr-acme"])
    assert "behind" in ghcr[5]  # pinned to an older version than the newest valid one
    soonest = found["timeline"][0]
    assert soonest["secret"] == "quay-password"
    assert "days" in soonest["text"] and "contosocache/quay-io" in soonest["text"]
    findings = "\n".join(found["findings"])
    for kind in ("access-denied", "secret-expiry", "credential-set-behind", "unmanaged-rule"):
        assert kind in findings
    assert "1\nUNHEALTHY CREDENTIAL SETS" in found["tiles"]


def test_names_and_reasons_from_events_are_shown_as_text_never_run(
    host: HostProcess, tmp_path: Path
) -> None:
    event = {
        "id": MARKUP, "topic": f"/subscriptions/0/{MARKUP}", "subject": "x",
        "eventType": "Microsoft.KeyVault.SecretNewVersionCreated",
        "eventTime": "2025-01-01T00:00:00Z", "data": {"ObjectName": MARKUP}, "dataVersion": "1",
    }  # fmt: skip
    delivered = host.request("POST", "/runtime/webhooks/EventGrid?functionName=on_keyvault_event",
                             body=json.dumps([event]).encode(), headers=NOTIFICATION)  # fmt: skip
    assert delivered.status == 202, host.output()[-2000:]
    found = probe(host, tmp_path)
    clean(found)
    assert any(MARKUP in row for row in found["actions"])  # shown literally
    assert found["injected"] == {"flag": None, "images": 0}
