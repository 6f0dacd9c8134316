from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.ids import ResourceId
from shared.errors import InvalidInputError, InvalidResourceIdError

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
VAULT = (
    f"/subscriptions/{SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-cache"
)


def test_parse_exposes_the_parts_of_a_child_resource() -> None:
    rule = ResourceId.parse(f"{REGISTRY}/cacheRules/nginx-rule")
    assert rule.subscription_id == SUB
    assert rule.resource_group == "rg-cache"
    assert rule.namespace == "Microsoft.ContainerRegistry"
    assert rule.full_type == "Microsoft.ContainerRegistry/registries/cacheRules"
    assert rule.name == "nginx-rule"
    assert rule.parent == ResourceId.parse(REGISTRY)
    assert str(rule) == f"{REGISTRY}/cacheRules/nginx-rule"


def test_parent_chain_walks_resource_group_and_subscription() -> None:
    registry = ResourceId.parse(REGISTRY)
    chain = [str(r) for r in registry.ancestors()]
    assert chain == [
        REGISTRY,
        f"/subscriptions/{SUB}/resourceGroups/rg-cache",
        f"/subscriptions/{SUB}",
    ]
    assert ResourceId.subscription(SUB).parent is None


def test_equality_and_hash_ignore_case_but_str_keeps_spelling() -> None:
    upper = ResourceId.parse(REGISTRY.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    lower = ResourceId.parse(REGISTRY.lower())
    assert upper == lower
    assert hash(upper) == hash(lower)
    assert {upper, lower} == {lower}
    assert str(upper) != str(lower)


def test_child_and_containment() -> None:
    vault = ResourceId.parse(VAULT)
    secret = vault.child("secrets", "dockerhub-token")
    assert secret.full_type == "Microsoft.KeyVault/vaults/secrets"
    assert vault.contains(secret)
    assert ResourceId.subscription(SUB).contains(secret)
    assert not secret.contains(vault)
    # a sibling whose name merely starts with the same text is not contained
    assert not vault.contains(ResourceId.parse(VAULT + "2"))


def test_extension_resources_and_tenant_level_ids() -> None:
    assignment = ResourceId.parse(
        f"{VAULT}/secrets/s1/providers/Microsoft.Authorization/roleAssignments/abc"
    )
    assert assignment.full_type == "Microsoft.Authorization/roleAssignments"
    assert assignment.parent == ResourceId.parse(f"{VAULT}/secrets/s1")
    mg = ResourceId.parse("/providers/Microsoft.Management/managementGroups/platform")
    assert mg.full_type == "Microsoft.Management/managementGroups"
    assert mg.subscription_id is None


def test_scopes_have_no_child_types() -> None:
    with pytest.raises(InvalidResourceIdError):
        ResourceId.subscription(SUB).child("cacheRules", "x")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "/",
        "subscriptions/x",
        f"/subscriptions/{SUB}/",
        "/subscriptions/not-a-guid/resourceGroups/rg",
        f"/subscriptions/{SUB}/resourceGroups",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries",
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/nonamespace/registries/x",
        f"/subscriptions/{SUB}//resourceGroups/rg",
        f"/subscriptions/{SUB}/resourceGroups/r g",
        f"/subscriptions/{SUB}/things/x",
        "/foo/bar",
    ],
)
def test_malformed_ids_are_refused_with_a_typed_error(text: str) -> None:
    with pytest.raises(InvalidResourceIdError):
        ResourceId.parse(text)


@given(st.text(max_size=300))
def test_parsing_arbitrary_text_never_crashes(text: str) -> None:
    try:
        ResourceId.parse(text)
    except InvalidInputError:
        pass


_name = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}", fullmatch=True)


@given(
    sub=st.uuids().map(str),
    group=_name,
    registry=_name,
    child=st.sampled_from(["cacheRules", "credentialSets"]),
    child_name=_name,
)
def test_valid_ids_round_trip(
    sub: str, group: str, registry: str, child: str, child_name: str
) -> None:
    text = (
        f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry"
        f"/registries/{registry}/{child}/{child_name}"
    )
    parsed = ResourceId.parse(text)
    assert str(parsed) == text
    assert parsed.key == text.lower()
    assert ResourceId.parse(str(parsed)) == parsed
    assert parsed.name == child_name
    assert parsed.parent is not None and parsed.parent.name == registry


_PARENTS = [
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
    "/providers/Microsoft.Management/managementGroups/mg",
    "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/r",
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg",
    "/subscriptions/00000000-0000-0000-0000-000000000001",
]


@given(
    parent=st.sampled_from(_PARENTS),
    child_type=st.one_of(
        st.sampled_from(["secrets", "providers", "PROVIDERS", "a b"]), st.text(max_size=12)
    ),
    name=st.one_of(_name, st.text(max_size=12), st.just("x" * 2100)),
)
def test_child_is_what_parse_returns(parent: str, child_type: str, name: str) -> None:
    """child() answers exactly as parse does for the joined text."""
    scope = ResourceId.parse(parent)
    try:
        expected: ResourceId | type[Exception] = ResourceId.parse(f"{scope}/{child_type}/{name}")
    except InvalidResourceIdError as error:
        expected = type(error)
    try:
        built: ResourceId | type[Exception] = scope.child(child_type, name)
    except InvalidResourceIdError as error:
        built = type(error)
    if isinstance(expected, ResourceId):
        assert isinstance(built, ResourceId)
        assert built.segments == expected.segments and str(built) == str(expected)
        assert built.key == expected.key == str(expected).lower()
    else:
        assert built is expected


@given(
    text=st.sampled_from(_PARENTS),
    full_type=st.sampled_from(
        [
            "Microsoft.KeyVault/vaults",
            "microsoft.keyvault/VAULTS",
            "Microsoft.Management/managementGroups",
            "Microsoft.Authorization/roleDefinitions",
            "Microsoft.Resources/resourceGroups",
            "Microsoft.Resources/subscriptions",
            "Microsoft.KeyVault/vaults/secrets",
            "vaults",
            "",
        ]
    ),
)
def test_is_type_is_full_type_compared_without_case(text: str, full_type: str) -> None:
    resource = ResourceId.parse(text)
    assert resource.is_type(full_type) == (resource.full_type.lower() == full_type.lower())
