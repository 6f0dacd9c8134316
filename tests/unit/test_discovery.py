"""Registries found by scope and tags: the settings' text, and the Resource Graph queries."""

from __future__ import annotations

import pytest

from shared.domain.discovery import graph_requests, parse_scope, registries_from_rows
from shared.errors import InvalidInputError

SUB = "00000000-0000-0000-0000-000000000001"
OTHER = "00000000-0000-0000-0000-000000000002"


def test_subscriptions_groups_and_management_groups_make_one_request_each_kind() -> None:
    scope = parse_scope(
        f"/subscriptions/{SUB}, /subscriptions/{OTHER}/resourceGroups/rg-cache,"
        " /providers/Microsoft.Management/managementGroups/platform",
        "env=prod, team = platform",
    )
    by_subscription, by_group = graph_requests(scope)
    assert by_subscription["subscriptions"] == [SUB, OTHER]
    assert by_subscription["query"] == (
        "resources | where type =~ 'microsoft.containerregistry/registries'"
        f" | where subscriptionId == '{SUB}'"
        f" or (subscriptionId == '{OTHER}' and resourceGroup =~ 'rg-cache')"
        " | where tags['env'] =~ 'prod' | where tags['team'] =~ 'platform'"
        " | project id | order by id asc"
    )
    assert by_group["managementGroups"] == ["platform"]
    assert "subscriptionId" not in by_group["query"]
    assert by_subscription["options"] == {"resultFormat": "objectArray", "$top": 1000}


def test_subscriptions_alone_need_no_filter_beyond_the_request_scope() -> None:
    (request,) = graph_requests(parse_scope(f"/subscriptions/{SUB.upper()}"))
    assert request["subscriptions"] == [SUB]
    assert "subscriptionId" not in request["query"]


@pytest.mark.parametrize(
    ("scopes", "tags"),
    [
        ("/subscriptions/not-a-guid", ""),
        (f"/subscriptions/{SUB}/resourceGroups/rg'x", ""),
        ("/providers/Microsoft.Management/managementGroups/a'b", ""),
        (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/x", ""),
        (f"/subscriptions/{SUB}", "novalue"),
        (f"/subscriptions/{SUB}", "env=pr'od"),
        (f"/subscriptions/{SUB}", "env=a\\b"),
        (f"/subscriptions/{SUB}", "=prod"),
    ],
)
def test_scopes_and_tags_that_would_not_be_a_safe_query_are_refused(scopes: str, tags: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_scope(scopes, tags)


def test_rows_give_each_registry_once() -> None:
    rid = (
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/a"
    )
    found = registries_from_rows(
        [{"id": rid}, {"id": rid.upper().replace("SUBSCRIPTIONS", "subscriptions")}, {"x": 1}]
    )
    assert [r.name for r in found] == ["a"]
