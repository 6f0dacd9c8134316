"""Validators match the whole text, in ASCII: a name with a newline before its end (`%0A` in a
URL path, a body, an import, a setting) and a look-alike letter or digit are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.domain.access import action_matches
from shared.domain.ids import ResourceId
from shared.domain.names import validate_registry_name, validate_rule_name
from shared.domain.pull_policies import PullPolicy
from shared.domain.pullers import PullerKind, puller_from_logged_identity
from shared.domain.repositories import Upstream
from shared.domain.secrets import SecretRef
from shared.errors import InvalidInputError

SUB = "00000000-0000-0000-0000-000000000001"
REGISTRY = f"/subscriptions/{SUB}/resourceGroups/rg-cache/providers/Microsoft.ContainerRegistry/registries/contosocache"
SECRET = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/ghcr-password")
PULL_ROW = {"id": "aks", "principalId": SUB, "registry": "contosocache", "repository": "team/app"}

REFUSED: dict[str, Callable[[], Any]] = {
    "resource group with a newline": lambda: ResourceId.parse(REGISTRY.replace("rg-cache", "rg-cache\n")),
    "registry with a newline": lambda: ResourceId.parse(f"{REGISTRY}\n/cacheRules/nginx-rule"),
    "cache rule name": lambda: validate_rule_name("nginx-rule\n"),
    "credential set name": lambda: validate_rule_name("dockerhub\n", kind="credential set"),
    "registry name": lambda: validate_registry_name("contosocache\n"),
    "secret version": lambda: SECRET.with_version("f" * 32 + "\n"),
    "upstream host": lambda: Upstream.parse("docker.io\n/library/nginx"),
    "pull row id": lambda: PullPolicy.from_dict({**PULL_ROW, "id": "aks\nx"}),
    # look-alikes that Unicode matching (\d, IGNORECASE folding) let through
    "long s in https": lambda: SecretRef.parse("http\u017f://kv-cache.vault.azure.net/secrets/a"),
    "Arabic-Indic port digits": lambda: Upstream.parse("docker.io:\u0664\u0664\u0663/library/nginx"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_value_with_a_newline_or_a_look_alike_is_refused(case: str) -> None:
    with pytest.raises(InvalidInputError):
        REFUSED[case]()


def test_the_same_values_without_the_damage_are_accepted() -> None:
    assert ResourceId.parse(REGISTRY).name == "contosocache"
    assert validate_rule_name("nginx-rule") == "nginx-rule"
    assert validate_registry_name("contosocache") == "contosocache"
    assert SECRET.with_version("F" * 32).version == "f" * 32
    assert Upstream.parse("docker.io:443/library/nginx").host == "docker.io:443"
    assert PullPolicy.from_dict(PULL_ROW).id == "aks"
    assert SecretRef.parse("HTTPS://kv-cache.vault.azure.net/secrets/a").name == "a"


def test_rbac_actions_match_whole_and_fold_ascii_case_only() -> None:
    read = "Microsoft.KeyVault/vaults/secrets/getSecret/action"
    assert action_matches("Microsoft.KeyVault/vaults/secrets/*", read.upper())
    assert not action_matches("Microsoft.KeyVault/vaults/secrets/*/action", read + "\n")
    assert not action_matches("Microsoft.KeyVault/vaults/secrets/*", read.replace("s", "\u017f"))


def test_a_logged_identity_with_a_newline_is_not_taken_for_an_object_id_or_a_token() -> None:
    assert puller_from_logged_identity(SUB, "contosocache").kind is PullerKind.ENTRA  # type: ignore[union-attr]
    damaged = puller_from_logged_identity(f"{SUB}\nx", "contosocache")
    assert damaged is not None and damaged.kind is PullerKind.UNKNOWN
