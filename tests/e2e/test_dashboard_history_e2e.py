"""The dashboard over time, in headless Chromium against the local host: a week of history made
by the product itself on the sandbox's clock (a daily audit, then a rotated GHCR password that
the pinned credential set follows), drawn as plain-SVG charts whose every bar is checked
against the journal and the audits' own reports; the page refreshes by itself; a finding links
to where it is fixed. The screenshot is kept as a test artifact (`test-artifacts/`, or
`$TEST_ARTIFACTS`)."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.host_process import REPO_ROOT, HostProcess, host_env
from tests.e2e.test_dashboard_e2e import EXAMPLE_SETTINGS, NOTIFICATION, clean, probe

DAY = 86_400
JSON = {"Content-Type": "application/json"}
ATTEMPTED = {"succeeded", "pending-verification", "failed"}


def post(host: HostProcess, path: str, body: Any = None) -> Any:
    reply = host.request("POST", path, body=json.dumps(body or {}).encode(), headers=JSON)
    assert reply.status in (200, 201, 202), (path, reply.status, reply.body[:500])
    return reply.json() if reply.body else None


@pytest.fixture(scope="module")
def week(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[HostProcess, list[dict[str, Any]]]]:
    """A host with seven days of history: each day an audit, then a new GHCR password version
    delivered as Key Vault's event; the sandbox clock moves a day between them."""
    log = tmp_path_factory.mktemp("dashboard-history") / "host.log"
    process = HostProcess(["--settings", str(EXAMPLE_SETTINGS), "--no-timers"], host_env(), log)
    reports = []
    try:
        process.wait_ready(timeout=60)
        for day in range(7):
            if day:
                post(process, "/_sandbox/clock", {"advanceSeconds": DAY})
            reports.append(post(process, "/api/audit"))
            created = post(process, "/_sandbox/vaults/kv-cache-policies/secrets/ghcr-password")
            delivered = process.request(
                "POST", "/runtime/webhooks/EventGrid?functionName=on_keyvault_event",
                body=json.dumps(created["eventGrid"]).encode(), headers=NOTIFICATION,
            )  # fmt: skip
            assert delivered.status == 202, process.output()[-2000:]
        yield process, reports
    finally:
        process.stop()


def journal_since(host: HostProcess, since: str) -> list[dict[str, Any]]:
    reply = host.request("GET", f"/api/journal?limit=1000&since={since.replace('+', '%2B')}")
    assert reply.status == 200, reply.body
    outcomes: list[dict[str, Any]] = reply.json()["outcomes"]
    assert len(outcomes) < 1000  # all of them
    return outcomes


def keep(shot: Path) -> Path:
    folder = Path(os.environ.get("TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / "dashboard-history.png"
    shutil.copyfile(shot, kept)
    return kept


def test_a_week_of_history_is_drawn_as_the_journal_and_the_reports_say(
    week: tuple[HostProcess, list[dict[str, Any]]], tmp_path: Path
) -> None:
    host, reports = week
    found = probe(host, tmp_path, "--refreshed", query="?refresh=2")
    clean(found)
    assert found["loads"] >= 2  # refreshed by itself
    kept = keep(tmp_path / "dashboard.png")
    assert kept.stat().st_size > 20_000

    history = host.request("GET", "/api/history?days=7").json()
    # Findings per audit: every audit of the week, its open findings as its report lists them,
    # resolved = the previous report's findings that are gone.
    open_bars = {b["group"]: b["value"] for b in found["auditBars"] if b["series"] == "open"}
    resolved_bars = {
        b["group"]: b["value"] for b in found["auditBars"] if b["series"] == "resolved"
    }
    assert set(open_bars) == {r["id"] for r in reports}
    previous: set[tuple[str, str]] | None = None
    for report in reports:
        keys = {(f["kind"], f["resource"].lower()) for f in report["findings"]}
        assert open_bars[report["id"]] == len(report["findings"])
        assert resolved_bars[report["id"]] == (0 if previous is None else len(previous - keys))
        previous = keys
    assert sum(resolved_bars.values()) >= 1  # the pinned set stopped being behind after day 0

    # Actions per day by kind: the journal's attempted actions, counted by their UTC day.
    outcomes = journal_since(host, history["since"])
    wanted = Counter(
        (datetime.fromisoformat(o["at"]).date().isoformat(), o["action"])
        for o in outcomes if o["action"] and o["status"] in ATTEMPTED
    )  # fmt: skip
    drawn = Counter(
        {(b["group"], b["series"]): b["value"] for b in found["actionBars"] if b["value"]}
    )
    assert drawn == wanted
    assert len({b["group"] for b in found["actionBars"]}) == 7
    assert sum(drawn.values()) >= 7  # a rotation a day at least

    # Rotations: each successful move of a credential set, with the signal that caused it.
    moves = [
        o for o in outcomes if o["action"] == "update-credential-set" and o["status"] == "succeeded"
    ]
    assert len(found["rotations"]) == len(moves) >= 6
    shown = "\n".join(" ".join(row) for row in found["rotations"])
    for move in moves:
        assert move["signalId"] in shown
        version = move["after"]["password"].rstrip("/").split("/")[-1][:8]
        assert version in shown

    # A finding on an ARM resource links to it in the Azure portal.
    assert any(
        link.startswith("https://portal.azure.com/#resource/subscriptions/")
        for link in found["fixLinks"]
    )
