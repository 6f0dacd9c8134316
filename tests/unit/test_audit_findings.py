"""Pure audit judgements: squatted policy targets, names of prescribed wildcard rules."""

from __future__ import annotations

from shared.domain.audit import missing_wildcard_rules, squatting_findings
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath, Upstream

REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/fabrikamcache"
)
POLICIES = [
    Policy.from_dict(
        {
            "id": "hub",
            "upstream": "docker.io/library/*",
            "action": "allow",
            "targetTemplate": "dockerhub/library/{path}",
            "credentialSet": "dockerhub",
        }
    ),
    Policy.from_dict({"id": "deny", "upstream": "docker.io/*", "action": "deny"}),
]


def repos(*names: str) -> list[TargetPath]:
    return [TargetPath.parse(n) for n in names]


def test_a_repository_where_a_policy_would_put_a_rule_target_is_squatting() -> None:
    (finding,) = squatting_findings(
        REGISTRY, repos("dockerhub/library/python", "apps/web"), [], POLICIES
    )
    assert finding.kind == "squatted-target"
    assert finding.evidence["upstream"] == "docker.io/library/python"
    assert "az acr repository delete" in (finding.fix or "")


def test_cached_content_of_an_existing_rule_is_not_squatting() -> None:
    rule = CacheRule(REGISTRY.child("cacheRules", "hub-python"), Upstream.parse("docker.io/library/python"),
                     TargetPath.parse("dockerhub/library/python"))  # fmt: skip
    assert squatting_findings(REGISTRY, repos("dockerhub/library/python"), [rule], POLICIES) == []


def test_paths_no_allow_row_maps_to_are_not_reserved() -> None:
    assert (
        squatting_findings(REGISTRY, repos("dockerhub/bitnami/redis", "team/app"), [], POLICIES)
        == []
    )


def test_wildcard_rules_prescribed_in_one_plan_get_names_unique_among_themselves() -> None:
    table = [
        Policy.from_dict({"id": "quay-a-b", "upstream": "quay.io/a-b/*", "action": "allow",
                          "ruleKind": "wildcard", "targetTemplate": "a-b/{path}"}),
        Policy.from_dict({"id": "ghcr-a-b", "upstream": "ghcr.io/a/b/*", "action": "allow",
                          "ruleKind": "wildcard", "targetTemplate": "a/b/{path}"}),
        Policy.from_dict({"id": "ghcr-c", "upstream": "ghcr.io/c/*", "action": "allow",
                          "ruleKind": "wildcard", "targetTemplate": "c/{path}"}),
    ]  # fmt: skip
    existing = CacheRule(REGISTRY.child("cacheRules", "c-all"), Upstream.parse("ghcr.io/other/x"),
                         TargetPath.parse("other/x"))  # fmt: skip
    specs = missing_wildcard_rules(REGISTRY, [existing], table)
    names = [s.name for s in specs]
    assert [str(s.target) for s in specs] == ["a-b/*", "a/b/*", "c/*"]
    assert names[0] == "a-b-all"  # both targets derive a-b-all; the second is made unique
    assert len({n.lower() for n in [*names, "c-all"]}) == 4
