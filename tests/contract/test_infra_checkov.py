"""checkov (the IaC scanner) over infra/: no failed check, and every skipped one justified inline.

checkov runs once per module, from its own virtual environment (`make checkov-tool`, which creates
.tools/checkov-venv; set CHECKOV to use another executable): its dependency pins clash with the
app's. It scans a copy of infra/ plus one deliberately insecure storage account, which must fail,
so a scan that silently checks nothing cannot pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MUTANT = "mutant/insecure-storage.bicep"


def _checkov() -> str:
    candidate = os.environ.get("CHECKOV") or str(
        ROOT / ".tools" / "checkov-venv" / "bin" / "checkov"
    )
    if not Path(candidate).is_file():
        pytest.fail(
            f"checkov is not installed at {candidate}: run `make checkov-tool` (or set CHECKOV)"
        )
    return candidate


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("infra")
    shutil.copytree(INFRA, root, dirs_exist_ok=True)
    insecure = (INFRA / "app" / "storage.bicep").read_text()
    for secure, weak in (
        ("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'"),
        ("supportsHttpsTrafficOnly: true", "supportsHttpsTrafficOnly: false"),
    ):
        assert secure in insecure
        insecure = insecure.replace(secure, weak)
    (root / MUTANT).parent.mkdir()
    (root / MUTANT).write_text(insecure)
    done = subprocess.run(
        [
            _checkov(),
            "--directory",
            str(root),
            "--framework",
            "bicep",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert done.stdout, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _checks(scan: dict[str, Any], kind: str, *, mutant: bool) -> list[dict[str, Any]]:
    return [
        c
        for c in scan["results"][kind]
        if c["file_path"].lstrip("/").startswith("mutant/") is mutant
    ]


def test_every_bicep_file_parses_for_checkov(scan: dict[str, Any]) -> None:
    assert scan["results"]["parsing_errors"] == []


def test_no_check_fails(scan: dict[str, Any]) -> None:
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for c in _checks(scan, "failed_checks", mutant=False)
    ]
    assert failed == []


def test_every_skipped_check_is_justified_inline(scan: dict[str, Any]) -> None:
    for check in _checks(scan, "skipped_checks", mutant=False):
        reason = (check.get("check_result") or {}).get("suppress_comment", "")
        assert reason != "No comment provided", check["check_id"]
        assert len(reason.split()) >= 8, f"{check['check_id']}: {reason!r} explains too little"


def test_the_scan_covers_the_resources_that_matter(scan: dict[str, Any]) -> None:
    seen = {
        c["resource"].rsplit(".", 1)[0]
        for kind in ("passed_checks", "skipped_checks")
        for c in _checks(scan, kind, mutant=False)
    }
    assert {
        "Microsoft.Storage/storageAccounts",
        "Microsoft.Web/sites",
        "Microsoft.EventGrid/topics",
        "Microsoft.Authorization/roleDefinitions",
    } <= seen


def test_the_scan_catches_an_insecure_storage_account(scan: dict[str, Any]) -> None:
    failed = {c["check_id"] for c in _checks(scan, "failed_checks", mutant=True)}
    assert {"CKV_AZURE_44", "CKV_AZURE_3"} <= failed
