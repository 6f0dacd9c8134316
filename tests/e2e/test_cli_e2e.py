"""`cachekeeper` as separate processes against one running local host: a plan made by one
invocation is applied by the next, an apply after a change is refused as stale, and the function
key travels as `x-functions-key`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, demo_host

GHCR = ("--registry", "contosocache", "--credential-set", "ghcr-acme")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostProcess]:
    with demo_host(tmp_path_factory.mktemp("cli")) as process:
        yield process


def cli(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CACHEKEEPER_")}
    return subprocess.run([sys.executable, "-m", "cli", *argv], cwd=REPO_ROOT,
                          env={**clean, "NO_PROXY": "127.0.0.1", **env},
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def ghcr_password(host: HostProcess) -> str:
    state = host.request("GET", "/_sandbox/state").json()
    (registry,) = [r for r in state["registries"] if r["name"] == "contosocache"]
    (ghcr,) = [c for c in registry["credentialSets"] if c["name"] == "ghcr-acme"]
    return str(ghcr["password"])


def ghcr_writes(host: HostProcess) -> int:
    query = "/_sandbox/requests?writes=true&path=credentialSets/ghcr-acme"
    return int(host.request("GET", query).json()["count"])


def test_audit_then_plan_then_apply_across_invocations(host: HostProcess) -> None:
    audit = cli("audit", "--no-reconcile", "-o", "json", "--url", host.base)
    assert audit.returncode == 1, audit.stderr  # findings
    report = json.loads(audit.stdout)
    assert {f["kind"] for f in report["findings"]} >= {"access-denied", "credential-set-behind"}
    before, writes = ghcr_password(host), ghcr_writes(host)
    planned = cli("--url", host.base, "plan", *GHCR, "-o", "json")
    assert planned.returncode == 1, planned.stderr  # something to change
    plan = json.loads(planned.stdout)
    assert [a["kind"] for a in plan["actions"]] == ["update-credential-set"]
    applied = cli(
        "apply", "--plan-id", plan["planId"], *GHCR, "-o", "json", CACHEKEEPER_URL=host.base
    )
    assert applied.returncode == 0, applied.stderr
    assert [o["status"] for o in json.loads(applied.stdout)["outcomes"]] == ["succeeded"]
    after = ghcr_password(host)  # the read-back: the set moved to the newest valid version
    assert after != before and after.endswith("/9c8b7a6f5e4d4c3b2a1f0e9d8c7b6a5f")
    assert ghcr_writes(host) > writes
    again = cli("plan", *GHCR, "--url", host.base)
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_an_apply_after_a_change_is_refused_as_stale_and_changes_nothing(host: HostProcess) -> None:
    planned = cli("plan", *GHCR, "-o", "json", "--url", host.base)
    plan_id = json.loads(planned.stdout)["planId"]
    host.request("POST", "/_sandbox/clock", body=b'{"advanceSeconds": 5}')
    rotated = host.request("POST", "/_sandbox/vaults/kv-cache-policies/secrets/ghcr-password")
    assert rotated.status == 201
    before, writes = ghcr_password(host), ghcr_writes(host)
    stale = cli("apply", "--plan-id", plan_id, *GHCR, "--url", host.base)
    assert stale.returncode == 2
    assert f"plan {plan_id} is stale" in stale.stderr and "nothing was applied" in stale.stderr
    assert "update-credential-set" in stale.stdout  # the current plan, to review
    assert (ghcr_password(host), ghcr_writes(host)) == (before, writes)


def test_the_apps_refusals_exit_2_naming_the_problem(host: HostProcess) -> None:
    missing = cli("status", "elsewhere", "--url", host.base)
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr.startswith(f"cachekeeper: {host.base} answered 404 NotFoundError")
    assert "elsewhere" in missing.stderr
    bad = cli("plan", "--credential-set", "quay-io", "--url", host.base)
    assert bad.returncode == 2 and "answered 400" in bad.stderr
    refused = cli("audit", "--reconcile", "--url", host.base)
    assert refused.returncode == 2 and "AUTO_RECONCILE" in refused.stderr


def test_policy_commands_over_the_admin_api(host: HostProcess, tmp_path: Path) -> None:
    exported = cli("policy", "export", "-o", "yaml", "--url", host.base)
    assert exported.returncode == 0, exported.stderr
    assert "id: mcr-all" in exported.stdout
    rows = tmp_path / "policies.json"
    rows.write_text(json.dumps({"version": 1, "policies": [
        {"id": "ok", "upstream": "mcr.microsoft.com/*", "action": "allow",
         "targetTemplate": "mcr/{path}"},
        {"id": "x1", "upstream": "ghcr.io/a", "action": "maybe"},
        {"id": "bad id!", "upstream": "docker.io/*", "action": "deny"}]}))  # fmt: skip
    refused = cli("--url", host.base, "policy", "import", str(rows))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "row 2 (id 'x1')" in refused.stderr and "row 3 (id 'bad id!')" in refused.stderr
    after = cli("policy", "export", "-o", "yaml", "--url", host.base)
    assert after.stdout == exported.stdout  # the refused import wrote nothing
    tested = cli("policy", "test", "docker.io/bitnami/redis", "--registry", "contosocache",
                 "--url", host.base)  # fmt: skip
    assert tested.returncode == 1  # refused by the policy table
    assert json.loads(tested.stdout)["results"][0]["status"] == "rejected"


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"path": self.path, "key": self.headers.get("x-functions-key")})
        body = json.dumps({"planId": "p1", "scope": {"kind": "all"}, "summary": "",
                           "actions": [], "findings": []}).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_function_key_comes_from_the_option_or_the_environment(tmp_path: Path) -> None:
    handler = type("Recorder", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert cli("plan", "--url", url, "--key", "k-option").returncode == 0
        assert cli("--url", url, "plan", CACHEKEEPER_FUNCTION_KEY="k-env").returncode == 0
    finally:
        server.shutdown()
        server.server_close()
    assert [(s["path"], s["key"]) for s in handler.seen] == [
        ("/api/plan", "k-option"),
        ("/api/plan", "k-env"),
    ]


def test_a_reset_with_stores_makes_the_second_try_start_clean(host: HostProcess) -> None:
    json_body = {"Content-Type": "application/json"}
    rotated = host.request("POST", "/_sandbox/vaults/kv-cache-rbac/secrets/dockerhub-password")
    event = json.dumps(rotated.json()["eventGrid"]).encode()
    webhook = "/runtime/webhooks/EventGrid?functionName=on_keyvault_event"
    headers = {**json_body, "aeg-event-type": "Notification"}
    assert host.request("POST", webhook, body=event, headers=headers).status == 202
    outcomes = host.request("GET", "/api/journal").json()["outcomes"]
    event_id = json.loads(event)["id"]
    assert {o["status"] for o in outcomes if o["signalId"] == event_id and o["action"]} == {
        "succeeded"
    }
    assert host.request("DELETE", "/api/policies/mcr-all").status == 204
    reset = host.request("POST", "/_sandbox/reset?stores=true")
    assert reset.status == 200, reset.body
    answer = reset.json()
    assert any(item.startswith("journal") for item in answer["reset"])
    assert not any("journal" in item for item in answer["kept"])
    assert host.request("GET", "/api/journal").json()["outcomes"] == []
    rows = host.request("GET", "/api/policies").json()["policies"]
    assert {r["id"] for r in rows} == {
        "dockerhub-library",
        "dockerhub-deny-rest",
        "ghcr-acme",
        "mcr-all",
    }
    assert host.request("POST", "/_sandbox/reset?stores=maybe").status == 400
    # the same event again is handled again, not taken for a duplicate of the first try
    again = host.request("POST", "/_sandbox/vaults/kv-cache-rbac/secrets/dockerhub-password")
    assert again.status == 201
    assert host.request("POST", webhook, body=event, headers=headers).status == 202
    outcomes = host.request("GET", "/api/journal").json()["outcomes"]
    event_id = json.loads(event)["id"]
    assert {o["status"] for o in outcomes if o["signalId"] == event_id and o["action"]} == {
        "succeeded"
    }
