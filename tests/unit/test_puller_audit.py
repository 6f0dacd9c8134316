"""The audit's puller side, judged from what was read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.models import CacheRule, RoleAssignment
from shared.domain.pull_policies import PullPolicy
from shared.domain.puller_audit import ObservedPullers, puller_audit_findings
from shared.domain.pullers import ACR_PULL, RegistryAuth, RegistryToken, ScopeMap
from shared.domain.repositories import TargetPath, Upstream
from tests.unit.test_puller_access import BY_NAME, KUBELET, REGISTRY, ROLES

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HORIZON = timedelta(days=14)
RULE = CacheRule(
    REGISTRY.child("cacheRules", "hub"),
    Upstream.parse("docker.io/library/*", allow_wildcard=True),
    TargetPath.parse("dockerhub/library/*"),
)
SCOPE_MAP = ScopeMap(
    REGISTRY.child("scopeMaps", "hub-pull"), ("repositories/dockerhub/*/content/read",)
)
OTHER_MAP = ScopeMap(REGISTRY.child("scopeMaps", "team"), ("repositories/team/app/content/read",))


def token(
    name: str,
    scope_map: ScopeMap,
    *,
    enabled: bool = True,
    expiries: tuple[datetime | None, ...] = (None,),
) -> RegistryToken:
    return RegistryToken(REGISTRY.child("tokens", name), name, enabled, scope_map.id, expiries)


def judge(observed: ObservedPullers) -> set[tuple[str, str]]:
    return {
        (f.kind, f.resource.rsplit("/", 1)[-1])
        for f in puller_audit_findings(observed, [RULE], now=NOW, horizon=HORIZON)
    }


def test_admin_user_enabled_is_a_finding() -> None:
    assert judge(ObservedPullers(RegistryAuth(REGISTRY, True, False))) == {
        ("admin-user-enabled", "contosocache")
    }
    assert judge(ObservedPullers(RegistryAuth(REGISTRY, False, False))) == set()


def test_tokens_expiring_within_the_horizon_or_disabled_over_cache_rules() -> None:
    tokens = (
        token("hub-off", SCOPE_MAP, enabled=False),
        token("team-off", OTHER_MAP, enabled=False),  # no cache rule in its scope
        token("soon", OTHER_MAP, expiries=(NOW + timedelta(days=3), NOW + timedelta(days=5))),
        token("one-lasting", OTHER_MAP, expiries=(NOW + timedelta(days=3), None)),
        token("later", OTHER_MAP, expiries=(NOW + timedelta(days=60),)),
    )
    maps = {SCOPE_MAP.id: SCOPE_MAP, OTHER_MAP.id: OTHER_MAP}
    assert judge(ObservedPullers(RegistryAuth(REGISTRY, False, False), tokens, maps)) == {
        ("token-disabled", "hub-off"), ("token-password-expiring", "soon"),
    }  # fmt: skip


def test_pull_row_identities_without_rights_and_with_broader_roles() -> None:
    row = PullPolicy("kubelet", registry="contosocache", principal_id=KUBELET)
    auth = RegistryAuth(REGISTRY, False, False)
    lost = ObservedPullers(auth, rows=(row,), roles=ROLES)
    assert judge(lost) == {("pull-row-identity-cannot-pull", "contosocache")}
    push = RoleAssignment("ra-push", REGISTRY, BY_NAME["AcrPush"], KUBELET)
    pull = RoleAssignment("ra-pull", REGISTRY, ACR_PULL, KUBELET)
    broad = ObservedPullers(auth, rows=(row,), assignments={KUBELET: [push]}, roles=ROLES)
    assert judge(broad) == {("puller-role-broader-than-pull", "ra-push")}
    fine = ObservedPullers(auth, rows=(row,), assignments={KUBELET: [pull]}, roles=ROLES)
    assert judge(fine) == set()
    abac = ObservedPullers(
        RegistryAuth(REGISTRY, False, True), rows=(row,), assignments={KUBELET: [pull]}, roles=ROLES
    )
    assert judge(abac) == {
        ("pull-row-identity-cannot-pull", "contosocache")
    }  # AcrPull not honoured
