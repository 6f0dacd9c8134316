"""Declared credential sets in the policy table against Azurite: round trips, ETags, their own
partition (policy rows and imports leave them alone), the in-memory store answering the same."""

from __future__ import annotations

import pytest

from shared.adapters.memory import MemoryPolicyStore
from shared.adapters.tables import TablePolicyStore
from shared.declared_port import DeclaredSetStore
from shared.domain.declared_sets import DeclaredCredentialSet
from shared.domain.policies import Policy
from shared.errors import ConcurrencyError, NotFoundError
from tests.integration.conftest_tables import (  # noqa: F401 - fixtures
    policy_store_fixture,
    service_fixture,
    table_fixture,
)

pytestmark = pytest.mark.azurite
KV = "https://kv-cache-rbac.vault.azure.net/secrets"


def declared(name: str = "quay-mirror", **fields: object) -> DeclaredCredentialSet:
    data = {"name": name, "loginServer": "quay.io", "username": f"{KV}/quay-username",
            "password": f"{KV}/quay-password/0123456789abcdef0123456789abcdef",
            "registries": ["fabrikamcache", "contosocache"], **fields}  # fmt: skip
    return DeclaredCredentialSet.from_dict(data)


@pytest.fixture(params=["tables", "memory"])
def store(request: pytest.FixtureRequest, policy_store: TablePolicyStore) -> DeclaredSetStore:
    return policy_store if request.param == "tables" else MemoryPolicyStore()


def test_a_declaration_round_trips_with_its_etag(store: DeclaredSetStore) -> None:
    written = store.put_declared_set(declared(absent=True))
    read = store.get_declared_set("Quay-Mirror")
    assert read.declaration == declared(absent=True)
    assert read.declaration.registries == ("contosocache", "fabrikamcache")
    assert read.etag == written.etag and read.etag
    assert [s.declaration.name for s in store.list_declared_sets()] == ["quay-mirror"]


def test_a_stale_etag_is_refused_and_changes_nothing(store: DeclaredSetStore) -> None:
    first = store.put_declared_set(declared())
    store.put_declared_set(declared(registries=["*"]), if_match=first.etag)
    with pytest.raises(ConcurrencyError):
        store.put_declared_set(declared(), if_match=first.etag)
    with pytest.raises(ConcurrencyError):
        store.delete_declared_set("quay-mirror", if_match=first.etag)
    assert store.get_declared_set("quay-mirror").declaration.registries == ("*",)


def test_a_missing_declaration_is_not_found(store: DeclaredSetStore) -> None:
    with pytest.raises(NotFoundError):
        store.get_declared_set("quay-mirror")
    with pytest.raises(NotFoundError):
        store.delete_declared_set("quay-mirror")
    with pytest.raises(NotFoundError):
        store.get_declared_set("no/such#row")
    store.put_declared_set(declared())
    store.delete_declared_set("quay-mirror")
    assert store.list_declared_sets() == []


def test_policy_rows_and_declarations_live_apart(policy_store: TablePolicyStore) -> None:
    policy_store.put_declared_set(declared())
    row = Policy.from_dict({"id": "quay", "upstream": "quay.io/*", "action": "allow",
                            "targetTemplate": "quay/{path}"})  # fmt: skip
    policy_store.replace_all([row])
    assert [p.policy.id for p in policy_store.list_policies()] == ["quay"]
    assert [s.declaration.name for s in policy_store.list_declared_sets()] == ["quay-mirror"]
    policy_store.replace_all([])
    assert len(policy_store.list_declared_sets()) == 1
