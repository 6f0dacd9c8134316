"""The rules of provisional verification: back-off, window, verdicts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.plans import ActionKind
from shared.domain.verification import (
    VERIFICATION_WINDOW,
    PendingVerification,
    Verdict,
    judge,
)

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
CS = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/credentialSets/hub"


def test_checks_back_off_and_the_last_falls_on_the_deadline() -> None:
    pending = PendingVerification.start("e", ActionKind.REFRESH_CREDENTIAL_SET, CS, CS, "r", at=AT)
    seen = [pending.next_check_at]
    while pending.next_check_at < pending.deadline:
        pending = pending.rescheduled(pending.next_check_at)
        seen.append(pending.next_check_at)
    offsets = [int((t - AT).total_seconds()) for t in seen]
    assert offsets == [30, 90, 210, 450, 690, 900]
    assert pending.deadline == AT + VERIFICATION_WINDOW


def test_only_healthy_verifies_and_only_the_closed_window_fails() -> None:
    pending = PendingVerification.start("e", ActionKind.GRANT_SECRET_READ, "s", CS, "r", at=AT)
    assert judge(pending, "Healthy", AT) is Verdict.VERIFIED
    assert judge(pending, "Unhealthy", AT + timedelta(minutes=14)) is Verdict.RECHECK
    assert judge(pending, "Unhealthy", pending.deadline) is Verdict.FAILED
    assert judge(pending, None, AT) is Verdict.FAILED  # the credential set is gone
    assert judge(pending, "Healthy", pending.deadline + timedelta(hours=1)) is Verdict.VERIFIED


def test_a_record_survives_its_json() -> None:
    pending = PendingVerification.start("e", ActionKind.GRANT_SECRET_READ, "s", CS, "r", at=AT)
    later = pending.rescheduled(AT + timedelta(seconds=31))
    assert PendingVerification.from_dict(later.to_dict()) == later
    assert later.key == pending.key == "e|grant-secret-read|s"
