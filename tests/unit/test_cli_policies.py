"""`python -m cli policy ...` over in-memory stores: same validation as the admin API."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cli.main import main
from shared import bootstrap
from tests.conftest import ROOT
from tests.fakes import CONTOSO, World, make_world

ROWS = [
    {"id": "mcr", "upstream": "mcr.microsoft.com/*", "action": "allow", "targetTemplate": "mcr/{path}"},
    {"id": "hub-deny", "upstream": "docker.io/*", "action": "deny"},
]  # fmt: skip


@pytest.fixture
def world() -> Iterator[World]:
    world = make_world()
    bootstrap.configure(context=world.ctx)
    yield world
    bootstrap.reset()


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def test_import_export_round_trip_through_files(world: World, tmp_path: Path) -> None:
    source = tmp_path / "policies.yaml"
    source.write_text(yaml.safe_dump({"version": 1, "policies": ROWS}))
    code, out, _ = run("policy", "import", str(source), "--changed-by", "ops")
    assert code == 0
    assert json.loads(out)["created"] == ["hub-deny", "mcr"]
    assert {r.policy.changed_by for r in world.policies.list_policies()} == {"ops"}
    target = tmp_path / "export.yml"
    assert run("policy", "export", "--file", str(target))[0] == 0
    exported = yaml.safe_load(target.read_text())
    # -o is the output format, as everywhere
    code, printed, _ = run("policy", "export", "-o", "yaml")
    assert (code, yaml.safe_load(printed)) == (0, exported)
    for argv in (("--settings", "absent.json", "policy", "export"),
                 ("policy", "export", "--settings", "absent.json")):  # fmt: skip
        code, _, err = run(*argv)  # read before or after the command's name
        assert (code, "cannot read settings file absent.json" in err) == (2, True)
    code, out, _ = run(
        "policy", "import", "-", "--format", "json", "--dry-run", stdin=json.dumps(exported)
    )
    assert (code, json.loads(out)["updated"], json.loads(out)["dryRun"]) == (0, [], True)


def test_an_invalid_row_exits_2_names_it_and_writes_nothing(world: World, tmp_path: Path) -> None:
    source = tmp_path / "policies.json"
    source.write_text(
        json.dumps({"version": 1, "policies": [ROWS[0], {**ROWS[1], "id": "bad id!"}]})
    )
    code, out, err = run("policy", "import", str(source))
    assert (code, out) == (2, "")
    assert "row 2 (id 'bad id!')" in err
    assert world.policies.list_policies() == []
    assert run("policy", "import", str(tmp_path / "missing.json"))[0] == 2


def test_an_unknown_version_or_an_empty_table_exits_2_unless_allowed(
    world: World, tmp_path: Path
) -> None:
    assert run("policy", "import", "-", stdin=json.dumps({"version": 1, "policies": ROWS}))[0] == 0
    unknown = tmp_path / "v99.yaml"
    unknown.write_text(yaml.safe_dump({"version": 99, "policies": []}))
    code, out, err = run("policy", "import", str(unknown))
    assert (code, out) == (2, "")
    assert "document version 99 is not supported; supported versions: 1" in err
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump({"version": 1, "policies": []}))
    code, _, err = run("policy", "import", str(empty))
    assert code == 2 and "--allow-empty" in err
    assert len(world.policies.list_policies()) == 2
    code, out, _ = run("policy", "import", str(empty), "--allow-empty")
    assert (code, json.loads(out)["deleted"]) == (0, ["hub-deny", "mcr"])
    assert world.policies.list_policies() == []


def test_test_answers_per_registry_and_exits_1_when_refused(world: World) -> None:
    assert run("policy", "import", "-", stdin=json.dumps({"version": 1, "policies": ROWS}))[0] == 0
    code, out, _ = run(
        "policy", "test", "mcr.microsoft.com/dotnet/sdk", "--registry", "contosocache"
    )
    (result,) = json.loads(out)["results"]
    assert (code, result["status"], result["rule"]["targetRepository"]) == (
        0,
        "planned",
        "mcr/dotnet/sdk",
    )
    code, out, _ = run("policy", "test", "docker.io/bitnami/redis")
    assert code == 1
    assert {r["status"] for r in json.loads(out)["results"]} == {"rejected"}
    code, out, _ = run("policy", "test", "--target", "mcr/dotnet/sdk", "--registry", CONTOSO.name)
    assert json.loads(out)["results"][0]["decision"]["policy"] == "mcr"
    assert world.registry.writes == []
    assert run("policy", "test")[0] == 2


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "cli", "policy", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0
    assert "import" in result.stdout and "export" in result.stdout


def test_every_failure_exits_2_whatever_the_command(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # not found (a registry that is not managed): an error, not a refusal
    code, out, err = run("policy", "test", "mcr.microsoft.com/dotnet/sdk", "--registry", "nope")
    assert (code, out) == (2, "") and "NotFoundError" in err

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(world.policies, "list_policies", broken)
    code, out, err = run("policy", "export")
    assert (code, out) == (2, "")
    assert err == "cachekeeper: RuntimeError: the store went away\n"
    with pytest.raises(SystemExit) as usage:
        run("policy", "frobnicate")
    assert usage.value.code == 2


def test_a_command_past_its_deadline_exits_2_with_a_message(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli import main as cli_main
    from cli.deadline import DeadlineExceeded

    def stopped(*args: object, **kwargs: object) -> None:
        raise DeadlineExceeded("the command ran past its 300 s deadline; stopped")

    monkeypatch.setattr(cli_main, "_run", stopped)
    code, out, err = run("policy", "export")
    assert (code, out) == (2, "")
    assert err == "cachekeeper: the command ran past its 300 s deadline; stopped\n"
