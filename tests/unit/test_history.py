"""The fleet over time, from journal outcomes and kept reports: findings per audit (open, and
resolved since the previous audit of the same registries), attempted actions per day by kind,
and each credential set's rotations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from shared.domain.history import actions_per_day, audit_series, rotation_history, window_days
from shared.domain.plans import ActionKind, Outcome, OutcomeStatus

NOW = datetime(2026, 11, 27, 15, tzinfo=UTC)
SET = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub"
VAULT = "https://kv.vault.azure.net/secrets"


def report(
    n: int, findings: list[tuple[str, str]], registries: tuple[str, ...] = ("r",)
) -> dict[str, Any]:
    return {"id": f"a{n}", "finishedAt": (NOW - timedelta(hours=10 - n)).isoformat(),
            "registries": list(registries), "counts": {"error": len(findings)},
            "findings": [{"kind": k, "resource": r} for k, r in findings]}  # fmt: skip


def test_resolved_counts_the_previous_audits_findings_that_are_gone() -> None:
    series = audit_series([
        report(3, [("access-denied", "x")]),
        report(1, [("access-denied", "x"), ("secret-expiry", "y"), ("unmanaged-rule", "z")]),
        report(2, [("access-denied", "X"), ("unmanaged-rule", "z")]),
        report(4, [("secret-expiry", "y")], registries=("other",)),
    ])  # fmt: skip
    assert [(a["id"], a["open"], a["resolved"]) for a in series] == [
        ("a1", 3, None), ("a2", 2, 1), ("a3", 1, 1), ("a4", 1, None)]  # fmt: skip
    assert series[0]["bySeverity"] == {"critical": 0, "error": 3, "warning": 0, "info": 0}


def outcome(
    at: datetime, status: OutcomeStatus, action: ActionKind | None, **extra: Any
) -> Outcome:
    return Outcome("sig", SET, status, "r", at, action, **extra)


def test_actions_per_day_count_attempts_by_kind_on_their_utc_day() -> None:
    days = window_days(NOW, 3)
    assert [d.isoformat() for d in days] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    seen = actions_per_day([
        outcome(late, OutcomeStatus.SUCCEEDED, ActionKind.GRANT_SECRET_READ),
        outcome(late.astimezone(timezone(timedelta(hours=2))),
                OutcomeStatus.FAILED, ActionKind.GRANT_SECRET_READ),
        outcome(NOW, OutcomeStatus.PENDING_VERIFICATION, ActionKind.UPDATE_CREDENTIAL_SET),
        outcome(NOW, OutcomeStatus.NO_CHANGE, ActionKind.UPDATE_CREDENTIAL_SET),
        outcome(NOW, OutcomeStatus.SUCCEEDED, None),
        outcome(NOW - timedelta(days=5), OutcomeStatus.SUCCEEDED, ActionKind.CREATE_CACHE_RULE),
    ], days)  # fmt: skip
    assert [sum(d["byKind"].values()) for d in seen] == [0, 2, 1]
    assert seen[1]["byKind"]["grant-secret-read"] == 2
    assert seen[2]["byKind"]["update-credential-set"] == 1


def test_rotations_name_the_versions_moved_from_and_to_newest_first() -> None:
    moves = [
        outcome(NOW - timedelta(days=2), OutcomeStatus.SUCCEEDED, ActionKind.UPDATE_CREDENTIAL_SET,
                before={"username": f"{VAULT}/u", "password": f"{VAULT}/p/v1"},
                after={"username": f"{VAULT}/u", "password": f"{VAULT}/p/v2"}),
        outcome(NOW, OutcomeStatus.SUCCEEDED, ActionKind.UPDATE_CREDENTIAL_SET,
                before={"password": f"{VAULT}/p/v2"}, after={"password": f"{VAULT}/p/v3"}),
        outcome(NOW, OutcomeStatus.FAILED, ActionKind.UPDATE_CREDENTIAL_SET,
                after={"password": f"{VAULT}/p/v9"}),
    ]  # fmt: skip
    [history] = rotation_history(moves)
    assert history["credentialSet"] == SET
    assert [(r["password"]["from"], r["password"]["to"]) for r in history["rotations"]] == [
        ("v2", "v3"), ("v1", "v2")]  # fmt: skip
    assert history["rotations"][1]["username"] == {"from": None, "to": None}  # versionless
