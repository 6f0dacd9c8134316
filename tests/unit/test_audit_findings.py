"""Pure audit judgements: squatted policy targets."""

from __future__ import annotations

from shared.domain.audit import squatting_findings
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
