"""ListIds parses the ids of one list page exactly as ResourceId.parse does, only faster."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.azure.registry import ListIds, cache_rule_from_json
from shared.domain.ids import ResourceId
from shared.errors import InvalidResourceIdError

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"


def same_outcome(text: object, ids: ListIds) -> None:
    try:
        expected = ResourceId.parse(text)  # type: ignore[arg-type]
    except InvalidResourceIdError:
        with pytest.raises(InvalidResourceIdError):
            ids.parse(text)  # type: ignore[arg-type]
        return
    got = ids.parse(text)  # type: ignore[arg-type]
    assert got.segments == expected.segments
    assert str(got) == str(expected)
    assert got == expected
    assert hash(got) == hash(expected)


@pytest.mark.parametrize(
    "text",
    [
        f"{REGISTRY}/cacheRules/dockerhub-library",
        f"{REGISTRY}/credentialSets/dockerhub",
        f"{REGISTRY.lower()}/cacherules/Mixed-Case.Name_1",
        f"/subscriptions/{SUB}/resourceGroups/rg-cache",  # the parent is a scope, not a resource
        f"/subscriptions/{SUB}/resourceGroups/rg/cacheRules/x",  # a child of a scope: invalid
        f"{REGISTRY}/providers/Microsoft.Insights/diagnosticSettings/d",  # nested provider
        f"{REGISTRY}/providers/x",
        f"  {REGISTRY}/cacheRules/padded",
        f"{REGISTRY}/cacheRules/padded  ",
        f"{REGISTRY}/cacheRules/has space",
        f"{REGISTRY}/cacheRules/per%cent",
        f"{REGISTRY}/cacheRules/",
        f"{REGISTRY}//rule",
        f"{REGISTRY}/cacheRules/" + "a" * 261,
        f"{REGISTRY}/cacheRules/" + "a" * 2048,
        "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.X/y/z/cacheRules/r",
        "/",
        "",
        "cacheRules/r",
        None,
        42,
    ],
)
def test_every_id_parses_or_fails_as_resource_id_parse_does(text: object) -> None:
    ids = ListIds()
    same_outcome(text, ids)
    same_outcome(text, ids)  # and again, from what the first call remembered


_SEGMENT = st.sampled_from(["cacheRules", "r-1", "providers", "Microsoft.X", "a b", "x%", "", "Q"])


@given(st.lists(_SEGMENT, max_size=4))
def test_children_of_a_registry_match_resource_id_parse(tail: list[str]) -> None:
    ids = ListIds()
    for text in (REGISTRY + "/" + "/".join(tail), f"{REGISTRY}/cacheRules/r-1"):
        same_outcome(text, ids)


def test_a_page_of_rules_shares_parents_and_repeated_ids() -> None:
    ids = ListIds()
    credential_set = f"{REGISTRY}/credentialSets/dockerhub"
    rules = [
        cache_rule_from_json(
            {
                "id": f"{REGISTRY}/cacheRules/rule{i}",
                "properties": {
                    "sourceRepository": f"docker.io/library/img{i}",
                    "targetRepository": f"dockerhub/img{i}",
                    "credentialSetResourceId": credential_set,
                },
            },
            ids=ids,
        )
        for i in range(3)
    ]
    assert [str(r.id) for r in rules if r] == [f"{REGISTRY}/cacheRules/rule{i}" for i in range(3)]
    assert all(r is not None and r.id.parent == ResourceId.parse(REGISTRY) for r in rules)
    first, second, _ = (r.credential_set_id for r in rules if r)
    assert first is second  # parsed once for the page
    assert first == ResourceId.parse(credential_set)
