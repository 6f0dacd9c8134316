"""The rules of provisional verification: back-off, window, verdicts (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.ids import ResourceId
from shared.domain.models import RoleAssignment
from shared.domain.plans import ActionKind
from shared.domain.verification import (
    RBAC_PROPAGATION,
    VERIFICATION_WINDOW,
    ExpectedAssignment,
    PendingVerification,
    Verdict,
    judge,
    judge_assignment,
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


REGISTRY = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r"
AS_GRANTED = RoleAssignment(
    "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d", ResourceId.parse(REGISTRY),
    "7f951dda-4ed3-4680-a7ca-43fe172d538d", "5b8e1c2a-7d3f-4e9a-b6c1-2f0a9d8e7c6b",
)  # fmt: skip


def pull_grant_pending() -> PendingVerification:
    return PendingVerification.start(
        "e", ActionKind.GRANT_PULL, REGISTRY, None, "r", at=AT,
        assignment=ExpectedAssignment.of(AS_GRANTED),
    )  # fmt: skip


def test_a_role_assignment_read_back_must_be_the_one_granted() -> None:
    expected = ExpectedAssignment.of(AS_GRANTED)
    assert expected.disagreement(AS_GRANTED) is None
    upper = RoleAssignment(
        AS_GRANTED.id.upper(), ResourceId.parse(REGISTRY.upper().replace("/SUBSCRIPTIONS", "/subscriptions")),
        AS_GRANTED.role_definition_id.upper(), AS_GRANTED.principal_id.upper(),
    )  # fmt: skip
    assert expected.disagreement(upper) is None  # ids compare case-insensitively
    assert "no longer exists" in str(expected.disagreement(None))
    changed = {
        "principal": RoleAssignment(AS_GRANTED.id, AS_GRANTED.scope, AS_GRANTED.role_definition_id,
                                    "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
        "role": RoleAssignment(AS_GRANTED.id, AS_GRANTED.scope,
                               "8311e382-0749-4cb8-b61a-304f252e45ec", AS_GRANTED.principal_id),
        "scope": RoleAssignment(AS_GRANTED.id, ResourceId.parse(REGISTRY.rsplit("/providers", 1)[0]),
                                AS_GRANTED.role_definition_id, AS_GRANTED.principal_id),
        "condition": RoleAssignment(AS_GRANTED.id, AS_GRANTED.scope, AS_GRANTED.role_definition_id,
                                    AS_GRANTED.principal_id, condition="(true)"),
    }  # fmt: skip
    for what, found in changed.items():
        assert f"now has {what}" in str(expected.disagreement(found)), what


def test_a_pull_grant_verifies_only_after_the_propagation_window_and_fails_at_once_when_changed() -> (
    None
):
    pending = pull_grant_pending()
    assert pending.deadline == AT + RBAC_PROPAGATION
    assert judge_assignment(pending, None, AT) is Verdict.RECHECK  # agrees, still propagating
    assert judge_assignment(pending, None, AT + RBAC_PROPAGATION - timedelta(seconds=1)) is (
        Verdict.RECHECK
    )
    assert judge_assignment(pending, None, pending.deadline) is Verdict.VERIFIED
    assert judge_assignment(pending, "gone", AT + timedelta(seconds=30)) is Verdict.FAILED
    assert judge_assignment(pending, "gone", pending.deadline) is Verdict.FAILED


def test_a_pull_grant_is_rechecked_on_the_same_back_off_up_to_its_deadline() -> None:
    pending = pull_grant_pending()
    seen = [pending.next_check_at]
    while pending.next_check_at < pending.deadline:
        pending = pending.rescheduled(pending.next_check_at)
        seen.append(pending.next_check_at)
    assert [int((t - AT).total_seconds()) for t in seen] == [30, 90, 210, 450, 600]


def test_a_pull_grant_record_survives_its_json() -> None:
    pending = pull_grant_pending().rescheduled(AT + timedelta(seconds=31))
    assert PendingVerification.from_dict(pending.to_dict()) == pending
    assert pending.to_dict()["credentialSet"] is None
    assert pending.to_dict()["assignment"]["principalId"] == AS_GRANTED.principal_id
