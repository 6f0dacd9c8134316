"""`cachekeeper credential-set list|show|apply` in-process over a demo sandbox: declared against
actual, exit codes (0 nothing to change, 1 something to change, 2 error), then plan and apply."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from cli.main import main
from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from shared.domain.policies import Policy
from tests.integration.app_context import demo_settings, sandbox_context

KV = "https://kv-cache-rbac.vault.azure.net/secrets"
DOCUMENT = {"version": 1, "credentialSets": [
    {"name": "quay-mirror", "loginServer": "quay.io", "username": f"{KV}/quay-username",
     "password": f"{KV}/quay-password", "registries": ["contosocache"]},
]}  # fmt: skip


@pytest.fixture(autouse=True)
def wired(sandbox: Sandbox) -> Iterator[None]:
    rows = [Policy.from_dict(p) for p in sandbox.scenario.policies]
    ctx = sandbox_context(sandbox, settings=demo_settings(REMEDIATION_MODE="fix"),
                          policies=MemoryPolicyStore(rows), journal=MemoryJournal(), sleep_scale=0)  # fmt: skip
    bootstrap.configure(context=replace(ctx, reports=MemoryReportStore()))
    yield
    bootstrap.reset()


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_apply_declares_then_plan_and_apply_create_the_set(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    file = tmp_path / "sets.yaml"
    file.write_text(yaml.safe_dump(DOCUMENT))
    code, out, _ = run("credential-set", "apply", str(file), "--dry-run")
    assert "(dry run)" in out and "create-credential-set" not in out  # nothing declared yet
    code, out, _ = run("credential-set", "apply", str(file))
    assert code == 1 and "create-credential-set quay-mirror" in out
    code, out, _ = run("credential-set", "list", "--registry", "contosocache")
    assert code == 1 and "quay-mirror missing" in out and "quay-io undeclared" in out
    code, out, _ = run("credential-set", "show", "quay-mirror", "-o", "json")
    assert code == 0 and json.loads(out)["loginServer"] == "quay.io"

    code, out, _ = run("plan", "--registry", "contosocache", "--credential-set", "quay-mirror",
                       "-o", "json")  # fmt: skip
    plan_id = json.loads(out)["planId"]
    code, out, _ = run("apply", "--plan-id", plan_id, "--registry", "contosocache",
                       "--credential-set", "quay-mirror", "-o", "json")  # fmt: skip
    assert code == 0, out
    assert sandbox.principal_of("contosocache", "quay-mirror")
    code, out, _ = run("credential-set", "list", "-o", "json")
    states = {
        c["name"]: c["state"] for r in json.loads(out)["registries"] for c in r["credentialSets"]
    }
    assert code == 0 and states["quay-mirror"] == "present"


def test_bad_input_and_unknown_names_exit_2(tmp_path: Path) -> None:
    file = tmp_path / "sets.json"
    file.write_text(json.dumps({"version": 1, "credentialSets": [{"name": "x"}]}))
    code, _, err = run("credential-set", "apply", str(file))
    assert code == 2 and "credentialSets[0]" in err
    code, _, err = run("credential-set", "show", "no-such-set")
    assert code == 2 and "not declared" in err
    code, _, err = run("credential-set", "apply", str(tmp_path / "missing.json"))
    assert code == 2
