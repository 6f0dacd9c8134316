"""`cachekeeper audit|plan|apply|status|events send|sandbox serve` over a demo sandbox: output,
exit codes (0 clean, 1 findings, 2 error) and the progress indicator."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cli.backends import LOCAL_HOST_URL, CommandFailedError, choose_backend
from cli.main import main
from cli.remote import Remote
from sandbox import Sandbox
from sandbox.embedded import set_sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.policies import Policy
from shared.services import Context
from tests.conftest import EVENTS, ROOT
from tests.e2e.host_process import free_port
from tests.integration.app_context import demo_settings, sandbox_context


def wire(sandbox: Sandbox, *, policies: bool = True, **settings: str) -> Context:
    rows = [Policy.from_dict(p) for p in sandbox.scenario.policies] if policies else []
    ctx = sandbox_context(sandbox, settings=demo_settings(**settings),
                          policies=MemoryPolicyStore(rows), journal=MemoryJournal())  # fmt: skip
    ctx = replace(ctx, reports=MemoryReportStore())
    bootstrap.configure(context=ctx)
    return ctx


@pytest.fixture(autouse=True)
def unwire() -> Iterator[None]:
    yield
    bootstrap.reset()
    set_sandbox(None)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_audit_reports_findings_with_exit_1_and_shows_progress(sandbox: Sandbox) -> None:
    wire(sandbox)
    code, out, err = run("audit", "--output", "json")
    assert code == 1
    report = json.loads(out)
    assert {f["kind"] for f in report["findings"]} >= {"access-denied", "secret-expiry"}
    assert "[1/2] observed" in err and "[2/2] observed" in err
    code, table, _ = run("audit")
    assert code == 1
    assert "SEVERITY" in table and "quay-io" in table and "cachekeeper apply --plan-id" in table
    assert sandbox.log.writes() == []


def test_a_clean_registry_exits_0_and_needs_no_progress(sandbox: Sandbox) -> None:
    wire(sandbox)
    code, out, err = run("audit", "--registry", "fabrikamcache", "-o", "json")
    assert (code, err) == (0, "")
    assert json.loads(out)["registries"] == ["fabrikamcache"]


def test_plan_apply_and_a_stale_apply(sandbox: Sandbox) -> None:
    wire(sandbox)
    scope = ("--registry", "contosocache", "--credential-set", "ghcr-acme")
    code, out, _ = run("plan", *scope, "-o", "json")
    assert code == 1  # something to change
    plan_id = json.loads(out)["planId"]
    code, out, _ = run("apply", *scope, "--plan-id", plan_id)
    assert code == 0
    assert "applied plan" in out and "update-credential-set" in out
    code, out, err = run("apply", *scope, "--plan-id", plan_id)
    assert code == 2
    assert "stale" in err
    assert "nothing to change" in out  # the new plan is shown
    code, _, _ = run("plan", *scope)
    assert code == 0


def test_status_shows_health_and_expiry(sandbox: Sandbox) -> None:
    wire(sandbox)
    code, out, _ = run("status", "contosocache")
    assert code == 1
    line = next(line for line in out.splitlines() if line.strip().startswith("quay-io "))
    assert "Unhealthy (AccessDenied)" in line and "quay-password [expiring]" in line
    code, out, _ = run("status", "-o", "json")
    assert [r["registry"] for r in json.loads(out)["registries"]] == [
        "contosocache",
        "fabrikamcache",
    ]


@pytest.mark.parametrize(
    "argv",
    [("status", "elsewhere"), ("plan", "--registry", "contosocache", "--credential-set", "no"),
     ("plan", "--credential-set", "quay-io")],
)  # fmt: skip
def test_errors_exit_2_with_a_message(sandbox: Sandbox, argv: tuple[str, ...]) -> None:
    wire(sandbox)
    code, out, err = run(*argv)
    assert (code, out) == (2, "")
    assert err.startswith("cachekeeper: ")


def test_sandbox_mode_talks_to_the_local_host_and_says_how_to_start_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # an emulated Azure lives as long as its process: sandbox mode never builds one per command
    for name, value in {**{"CACHEKEEPER_MODE": "sandbox"}, **_demo_env()}.items():
        monkeypatch.setenv(name, value)
    bootstrap.reset()
    chosen = choose_backend(None, None)
    assert isinstance(chosen, Remote) and (chosen.base, chosen.local) == (LOCAL_HOST_URL, True)
    assert not bootstrap.has_context()
    with pytest.raises(CommandFailedError, match="start it with `make run`"):
        Remote(f"http://127.0.0.1:{free_port()}", None, local=True).plan({})
    dead = f"http://127.0.0.1:{free_port()}"
    for argv in (("audit", "--url", dead), ("--url", dead, "plan"), ("status", "--url", dead)):
        code, out, err = run(*argv)
        assert (code, out, err.startswith(f"cachekeeper: cannot reach {dead}")) == (2, "", True)


def _demo_env() -> dict[str, str]:
    settings = demo_settings()
    return {
        "MANAGED_REGISTRIES": ",".join(str(r) for r in settings.managed_registries),
        "VAULT_ALLOWLIST": ",".join(str(v) for v in settings.vault_allowlist),
    }


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []
    status = 202

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(
            {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Recorder", (_Recorder,), {"seen": [], "status": 202})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("fixture", "path", "content_type"),
    [
        ("keyvault.SecretNewVersionCreated.eventgrid.json",
         "/runtime/webhooks/EventGrid?functionName=on_keyvault_event", "application/json"),
        ("keyvault.SecretNewVersionCreated.cloudevents.json",
         "/runtime/webhooks/EventGrid?functionName=on_keyvault_event", "application/cloudevents+json"),
        ("azure-monitor.commonAlertSchema.logAlertsV2.json", "/api/alerts/pull-failures", "application/json"),
    ],
)  # fmt: skip
def test_events_send_posts_the_file_where_the_host_expects_it(
    receiver: tuple[str, type[_Recorder]], fixture: str, path: str, content_type: str
) -> None:
    url, handler = receiver
    code, out, _ = run("events", "send", str(EVENTS / fixture), "--url", url, "--key", "k1")
    assert code == 0
    assert json.loads(out)["status"] == 202
    (request,) = handler.seen
    assert request["path"] == path
    assert request["headers"]["content-type"] == content_type
    assert request["headers"]["x-functions-key"] == "k1"
    assert request["body"] == (EVENTS / fixture).read_bytes()
    if "EventGrid" in path:
        assert request["headers"]["aeg-event-type"] == "Notification"


def test_events_send_failures_exit_2(receiver: tuple[str, type[_Recorder]], tmp_path: Path) -> None:
    url, handler = receiver
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"id": "1", "eventType": "Contoso.Other", "data": {}}))
    assert run("events", "send", str(unknown), "--url", url)[0] == 2
    assert handler.seen == []
    handler.status = 500
    event = EVENTS / "keyvault.SecretNewVersionCreated.eventgrid.json"
    assert run("events", "send", str(event), "--url", url)[0] == 2
    assert run("events", "send", str(event), "--url", f"http://127.0.0.1:{free_port()}")[0] == 2
    assert run("events", "send", str(tmp_path / "absent.json"), "--url", url)[0] == 2


def test_the_console_script_is_declared_and_the_module_runs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["cachekeeper"] == "cli.main:main"
    result = subprocess.run([sys.executable, "-m", "cli", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    for command in ("audit", "plan", "apply", "status", "events", "sandbox", "policy"):
        assert command in result.stdout


def test_sandbox_serve_serves_the_control_surface() -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "cli", "sandbox", "serve", "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert process.stdout is not None
        assert "listening" in process.stdout.readline()
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/state", timeout=10) as reply:
            state = json.load(reply)
        assert {r["name"] for r in state["registries"]} == {"contosocache", "fabrikamcache"}
    finally:
        process.terminate()
        process.wait(timeout=10)
