from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.ids import ResourceId
from shared.domain.models import CredentialHealth, CredentialSet, HealthStatus, SecretVersion
from shared.domain.plans import ActionKind
from shared.domain.rotation import newest_valid, plan_rotation
from shared.domain.secrets import SecretRef

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
TOKEN = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-token")
USER = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-user")


def version(
    n: int,
    *,
    age_days: int,
    enabled: bool = True,
    nbf: datetime | None = None,
    exp: datetime | None = None,
) -> SecretVersion:
    created = NOW - timedelta(days=age_days)
    return SecretVersion(TOKEN.with_version(f"{n:032x}"), enabled, created, created, nbf, exp)


V1, V2, V3 = version(1, age_days=30), version(2, age_days=10), version(3, age_days=1)


def cset(
    name: str,
    *,
    username: SecretRef = USER,
    password: SecretRef = TOKEN,
    health: HealthStatus = HealthStatus.HEALTHY,
) -> CredentialSet:
    return CredentialSet(
        REGISTRY.child("credentialSets", name),
        "docker.io",
        username,
        password,
        "p",
        CredentialHealth(health),
    )


def test_newest_valid_skips_disabled_expired_and_future_versions() -> None:
    disabled = version(4, age_days=0, enabled=False)
    future = version(5, age_days=0, nbf=NOW + timedelta(hours=1))
    expired = version(6, age_days=0, exp=NOW)
    assert newest_valid([V1, V2, V3, disabled, future, expired], NOW) == V3
    assert newest_valid([disabled], NOW) is None


def test_versioned_reference_moves_to_the_newest_valid_version() -> None:
    pinned = cset("hub-pinned", password=V1.ref)
    plan = plan_rotation(versions={TOKEN: [V1, V2, V3]}, credential_sets=[pinned], now=NOW)
    (action,) = plan.actions
    assert action.kind is ActionKind.UPDATE_CREDENTIAL_SET
    assert action.changes.to_dict()["password"] == {"from": str(V1.ref), "to": str(V3.ref)}
    assert action.changes.to_dict()["username"] == {"from": str(USER), "to": str(USER)}


def test_already_current_means_nothing_to_do() -> None:
    current = cset("hub-current", password=V3.ref)
    assert plan_rotation(
        versions={TOKEN: [V1, V2, V3]}, credential_sets=[current], now=NOW
    ).is_empty


def test_never_downgrades_whatever_order_versions_are_seen_in() -> None:
    current = cset("hub-current", password=V3.ref)
    for subset in ([V1, V3], [V2, V3], [V3, V1, V2]):
        assert plan_rotation(versions={TOKEN: subset}, credential_sets=[current], now=NOW).is_empty
    # v3 got disabled: v2 is the newest valid, but it is older than what is pinned -> stay
    disabled_v3 = SecretVersion(V3.ref, False, V3.created, V3.updated)
    plan = plan_rotation(
        versions={TOKEN: [V1, V2, disabled_v3]}, credential_sets=[current], now=NOW
    )
    assert plan.is_empty


def test_unusable_new_versions_are_reported_not_adopted() -> None:
    pinned = cset("hub-pinned", password=V2.ref)
    disabled = version(7, age_days=0, enabled=False)
    future = version(8, age_days=0, nbf=NOW + timedelta(days=1))
    expired = version(9, age_days=0, exp=NOW - timedelta(seconds=1))
    plan = plan_rotation(
        versions={TOKEN: [V1, V2, disabled, future, expired]}, credential_sets=[pinned], now=NOW
    )
    assert plan.is_empty
    problems = {f.evidence["version"]: f.evidence["problem"] for f in plan.findings}
    assert problems[disabled.version] == "disabled"
    assert problems[future.version].startswith("not valid before")
    assert problems[expired.version].startswith("expired at")


def test_a_set_referencing_the_secret_twice_gets_one_update() -> None:
    both = cset("hub-both", username=V1.ref, password=V2.ref)
    (action,) = plan_rotation(
        versions={TOKEN: [V1, V2, V3]}, credential_sets=[both], now=NOW
    ).actions
    assert (
        action.changes.to_dict()["username"]["to"]
        == str(V3.ref)
        == action.changes.to_dict()["password"]["to"]
    )


def test_only_sets_that_reference_the_secret_are_touched() -> None:
    other = cset(
        "other-set",
        username=USER,
        password=SecretRef.parse("https://kv-cache.vault.azure.net/secrets/ghcr/" + "a" * 32),
    )
    assert plan_rotation(versions={TOKEN: [V1, V3]}, credential_sets=[other], now=NOW).is_empty


def test_versionless_refresh_only_when_unhealthy_or_changed_since_last_refresh() -> None:
    healthy = cset("hub-healthy")
    first = plan_rotation(versions={TOKEN: [V1, V3]}, credential_sets=[healthy], now=NOW)
    assert [a.kind for a in first.actions] == [ActionKind.REFRESH_CREDENTIAL_SET]
    after = {healthy.id: NOW}
    assert plan_rotation(
        versions={TOKEN: [V1, V3]}, credential_sets=[healthy], now=NOW, last_refresh=after
    ).is_empty
    unhealthy = cset("hub-healthy", health=HealthStatus.UNHEALTHY)
    again = plan_rotation(
        versions={TOKEN: [V1, V3]}, credential_sets=[unhealthy], now=NOW, last_refresh=after
    )
    assert "Unhealthy" in again.actions[0].reason
    # nothing valid to refresh to: report instead
    none_valid = plan_rotation(
        versions={TOKEN: [version(1, age_days=1, enabled=False)]},
        credential_sets=[unhealthy],
        now=NOW,
    )
    assert none_valid.is_empty and any(
        f.kind == "secret-has-no-valid-version" for f in none_valid.findings
    )


def test_plans_are_deterministic_and_fingerprint_state() -> None:
    sets = [cset("b-set", password=V1.ref), cset("a-set", password=V2.ref)]
    one = plan_rotation(versions={TOKEN: [V1, V2, V3]}, credential_sets=sets, now=NOW)
    two = plan_rotation(
        versions={TOKEN: [V3, V2, V1]}, credential_sets=list(reversed(sets)), now=NOW
    )
    assert one.id == two.id
    assert [a.resource.rsplit("/", 1)[-1] for a in one.actions] == ["a-set", "b-set"]
    moved = plan_rotation(versions={TOKEN: [V1, V2]}, credential_sets=sets, now=NOW)
    assert moved.id != one.id


@given(st.permutations([V1, V2, V3]), st.integers(min_value=1, max_value=3))
def test_any_arrival_order_converges_on_the_newest_and_never_goes_back(
    order: list[SecretVersion], seen: int
) -> None:
    """Apply the plan after each partial view of the versions: the pin only ever moves forward."""
    current = cset("hub-pinned", password=V1.ref)
    created = {v.ref: v.created for v in (V1, V2, V3)}
    for visible in itertools.accumulate([[v] for v in order[:seen]] + [[]]):
        plan = plan_rotation(versions={TOKEN: [V1, *visible]}, credential_sets=[current], now=NOW)
        for action in plan.actions:
            new = SecretRef.parse(action.changes.to_dict()["password"]["to"])
            assert created[new] > created[current.password]  # type: ignore[operator]
            current = cset("hub-pinned", password=new)
    full = plan_rotation(versions={TOKEN: [V1, V2, V3]}, credential_sets=[current], now=NOW)
    for action in full.actions:
        current = cset(
            "hub-pinned", password=SecretRef.parse(action.changes.to_dict()["password"]["to"])
        )
    assert current.password == V3.ref


def test_username_and_password_in_different_secrets_are_decided_independently_in_one_update() -> (
    None
):
    old_user = USER.with_version("a" * 32)
    new_user = SecretVersion(USER.with_version("b" * 32), True, NOW - timedelta(days=1), None)
    both = cset("hub-both", username=old_user, password=V1.ref)
    plan = plan_rotation(
        versions={
            TOKEN: [V1, V3],
            USER: [SecretVersion(old_user, True, NOW - timedelta(days=9)), new_user],
        },
        credential_sets=[both],
        now=NOW,
    )
    (action,) = plan.actions
    assert action.changes.to_dict()["username"]["to"] == str(new_user.ref)
    assert action.changes.to_dict()["password"]["to"] == str(V3.ref)


def test_a_disabled_latest_version_is_critical_for_a_versionless_reference_and_not_refreshed() -> (
    None
):
    versionless = cset("hub-versionless", health=HealthStatus.UNHEALTHY)
    disabled = version(4, age_days=0, enabled=False)
    plan = plan_rotation(
        versions={TOKEN: [V2, V3, disabled]}, credential_sets=[versionless], now=NOW
    )
    assert plan.is_empty  # a refresh would read the disabled version again
    (critical,) = [f for f in plan.findings if f.kind == "versionless-latest-disabled"]
    assert critical.evidence["latest"] == disabled.version
    assert critical.evidence["newestValid"] == V3.version
    pinned = plan_rotation(
        versions={TOKEN: [V2, V3, disabled]},
        credential_sets=[versionless],
        now=NOW,
        pin_disabled_latest=True,
    )
    (action,) = pinned.actions
    assert action.kind is ActionKind.UPDATE_CREDENTIAL_SET
    assert action.changes.to_dict()["password"] == {"from": str(TOKEN), "to": str(V3.ref)}


def test_an_expired_latest_version_is_no_reason_to_stop_refreshing() -> None:
    # Key Vault serves expired versions: only the product's choice of a version ignores them
    expired = version(4, age_days=0, exp=NOW - timedelta(seconds=1))
    unhealthy = cset("hub-versionless", health=HealthStatus.UNHEALTHY)
    plan = plan_rotation(versions={TOKEN: [V3, expired]}, credential_sets=[unhealthy], now=NOW)
    assert [a.kind for a in plan.actions] == [ActionKind.REFRESH_CREDENTIAL_SET]
    assert not [f for f in plan.findings if f.kind == "versionless-latest-disabled"]


def test_an_access_denied_set_is_not_refreshed() -> None:
    denied = CredentialSet(
        REGISTRY.child("credentialSets", "hub"), "docker.io", USER, TOKEN, "p",
        CredentialHealth(HealthStatus.UNHEALTHY, "AccessDenied", "cannot getSecret"),
    )  # fmt: skip
    plan = plan_rotation(
        versions={TOKEN: [V3]}, credential_sets=[denied], now=NOW, refresh_when_unknown=False
    )
    assert plan.is_empty


def test_versions_of_one_second_are_ordered_by_announcements_or_not_at_all() -> None:
    same = NOW - timedelta(hours=1)
    a = SecretVersion(TOKEN.with_version("f" * 32), True, same, same)
    b = SecretVersion(TOKEN.with_version("0" * 32), True, same, same)
    pinned = cset("hub-pinned", password=V3.ref)
    unknown = plan_rotation(versions={TOKEN: [V3, a, b]}, credential_sets=[pinned], now=NOW)
    assert unknown.is_empty
    assert [f.kind for f in unknown.findings] == ["secret-version-order-unknown"]
    told = {TOKEN: {a.version: NOW - timedelta(seconds=1), b.version: NOW}}
    plan = plan_rotation(
        versions={TOKEN: [V3, a, b]}, credential_sets=[pinned], now=NOW, announced=told
    )
    (action,) = plan.actions
    assert action.changes.to_dict()["password"]["to"] == str(b.ref)
    # pinned to the later of the two, it never moves back to the earlier one
    on_b = cset("hub-on-b", password=b.ref)
    assert plan_rotation(
        versions={TOKEN: [V3, a, b]}, credential_sets=[on_b], now=NOW, announced=told
    ).is_empty
