"""Declared credential sets: what a declaration may say, and the planner's decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest

from shared.domain.declared_plan import DeclaredPlan, plan_declared_sets
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialSet, SecretVersion
from shared.domain.plans import ActionKind
from shared.domain.policies import Policy, PolicyIndex
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError

REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
VAULT = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/v/providers/Microsoft.KeyVault/vaults/kv-a"
)
KV = "https://kv-a.vault.azure.net/secrets"
V1, V2 = "1" * 32, "2" * 32


def declared(**fields: object) -> DeclaredCredentialSet:
    data = {"name": "quay-mirror", "loginServer": "quay.io", "username": f"{KV}/user",
            "password": f"{KV}/pass", **fields}  # fmt: skip
    return DeclaredCredentialSet.from_dict(data, vaults=["kv-a"])


def existing(name: str = "quay-mirror", password: str = f"{KV}/pass") -> CredentialSet:
    return CredentialSet(REGISTRY.child("credentialSets", name), "quay.io",
                         SecretRef.parse(f"{KV}/user"), SecretRef.parse(password), "p-1")  # fmt: skip


def plan(
    declarations: list[DeclaredCredentialSet],
    sets: list[CredentialSet],
    *,
    rules: Sequence[CacheRule] = (),
    policies: Sequence[Policy] = (),
    versions: Mapping[SecretRef, list[SecretVersion]] | None = None,
    fix: bool = True,
) -> DeclaredPlan:
    return plan_declared_sets(
        REGISTRY, declarations, sets=sets, rules=rules, index=PolicyIndex(policies),
        versions=versions or {}, vaults={"kv-a": VAULT}, fix=fix,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x"}, "5 to 50"),
        ({"loginServer": "mcr.microsoft.com"}, "does not take a credential set"),
        ({"loginServer": "other.azurecr.io"}, "does not take a credential set"),
        ({"loginServer": "not a host"}, "not a host name"),
        ({"username": "https://kv-b.vault.azure.net/secrets/user"}, "not allow-listed"),
        ({"password": "http://kv-a.vault.azure.net/secrets/pass"}, "password"),
        ({"registries": []}, "registries"),
        ({"registries": ["bad name!"]}, "registry name"),
        ({"absent": "yes"}, "absent"),
        ({"colour": "blue"}, "unknown"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        declared(**fields)


def test_a_declaration_round_trips_and_defaults_to_every_registry() -> None:
    declaration = declared(password=f"{KV}/pass/{V1}")
    assert declaration.registries == ("*",) and declaration.applies_to("anycache")
    assert DeclaredCredentialSet.from_dict(declaration.to_dict()) == declaration
    assert not declared(registries=["fabrikamcache"]).applies_to("contosocache")


def test_without_declarations_nothing_is_planned_or_reported() -> None:
    result = plan([], [existing("quay-io")])
    assert result.actions == () and result.findings == ()


def test_a_missing_set_is_created_with_grants_only_in_fix_mode() -> None:
    (create,) = plan([declared()], []).actions
    assert create.kind is ActionKind.CREATE_CREDENTIAL_SET
    assert create.changes.to_dict()["grants"] == [
        {"scope": f"{VAULT}/secrets/user", "roleDefinitionId": "4633458b-17de-408a-b874-0445c86b69e6"},
        {"scope": f"{VAULT}/secrets/pass", "roleDefinitionId": "4633458b-17de-408a-b874-0445c86b69e6"},
    ]  # fmt: skip
    (report_only,) = plan([declared()], [], fix=False).actions
    assert report_only.changes.to_dict()["grants"] == []


def test_undeclared_sets_are_reported_and_never_touched() -> None:
    result = plan([declared()], [existing(), existing("quay-io")])
    assert result.actions == ()
    assert [(f.kind, f.resource.rsplit("/", 1)[-1]) for f in result.findings] == [
        ("undeclared-credential-set", "quay-io")
    ]


def test_changed_secret_uris_are_updated_but_never_to_an_older_version() -> None:
    def version(v: str, day: int) -> SecretVersion:
        return SecretVersion(
            SecretRef.parse(f"{KV}/pass/{v}"), True, datetime(2026, 1, day, tzinfo=UTC)
        )

    versions = {SecretRef.parse(f"{KV}/pass"): [version(V1, 1), version(V2, 2)]}
    forward = plan([declared(password=f"{KV}/pass/{V2}")], [existing(password=f"{KV}/pass/{V1}")],
                   versions=versions)  # fmt: skip
    assert [a.kind for a in forward.actions] == [ActionKind.UPDATE_CREDENTIAL_SET]
    back = plan([declared(password=f"{KV}/pass/{V1}")], [existing(password=f"{KV}/pass/{V2}")],
                versions=versions)  # fmt: skip
    assert back.actions == () and [f.kind for f in back.findings] == ["declared-version-older"]
    unknown = plan([declared(password=f"{KV}/pass/{'3' * 32}")], [existing()], versions=versions)
    assert unknown.actions == () and [f.kind for f in unknown.findings] == [
        "declared-version-missing"
    ]


def test_a_set_declared_absent_is_deleted_only_when_no_rule_uses_it() -> None:
    gone = declared(absent=True)
    rule = CacheRule(REGISTRY.child("cacheRules", "quay"), Upstream.parse("quay.io/org/app"),
                     TargetPath.parse("quay/org/app"), existing().id)  # fmt: skip
    in_use = plan([gone], [existing()], rules=[rule])
    assert in_use.actions == () and [f.kind for f in in_use.findings] == ["credential-set-in-use"]
    unused = plan([gone], [existing()])
    assert [a.kind for a in unused.actions] == [ActionKind.DELETE_CREDENTIAL_SET]
    assert plan([gone], []).actions == ()  # already absent


def test_rules_move_to_the_set_their_row_names_or_off_a_set_declared_absent() -> None:
    rule = CacheRule(REGISTRY.child("cacheRules", "quay"), Upstream.parse("quay.io/org/app"),
                     TargetPath.parse("quay/org/app"), existing("quay-io").id)  # fmt: skip
    row = {
        "id": "quay",
        "upstream": "quay.io/org/app",
        "action": "allow",
        "targetTemplate": "quay/org/app",
    }
    to_mirror = plan([declared()], [existing("quay-io")], rules=[rule],
                     policies=[Policy.from_dict(row | {"credentialSet": "quay-mirror"})])  # fmt: skip
    moves = [a for a in to_mirror.actions if a.kind is ActionKind.MOVE_CACHE_RULE]
    assert [m.changes.to_dict()["credentialSet"]["to"] for m in moves] == [
        str(REGISTRY.child("credentialSets", "quay-mirror"))
    ]
    off = plan([declared(name="quay-io", absent=True)], [existing("quay-io")], rules=[rule],
               policies=[Policy.from_dict(row)])  # fmt: skip
    assert [a.changes.to_dict()["credentialSet"]["to"] for a in off.actions] == [None]
    kept = plan([declared()], [existing("quay-io")], rules=[rule], policies=[Policy.from_dict(row)])
    assert not [a for a in kept.actions if a.kind is ActionKind.MOVE_CACHE_RULE]
