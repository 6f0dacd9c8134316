"""The in-memory fakes enforce the same rules as the real services, so unit tests stay honest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.adapters.memory import (
    FixedClock,
    MemoryAccess,
    MemoryJournal,
    MemoryPolicyStore,
    MemoryRegistry,
    MemorySecrets,
)
from shared.domain.cache_rules import RuleSpec
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER, CredentialSet
from shared.domain.plans import Outcome, OutcomeStatus
from shared.domain.policies import Policy
from shared.domain.repositories import TargetPath, Upstream
from shared.domain.secrets import SecretRef
from shared.errors import (
    ConcurrencyError,
    ConflictError,
    InvalidNameError,
    NotFoundError,
    PolicyViolationError,
)
from shared.ports import ClaimStatus

REGISTRY = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
VAULT = ResourceId.parse(
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cache"
)
USER = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-user")
TOKEN = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-token")
NOW = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def registry() -> MemoryRegistry:
    fake = MemoryRegistry([REGISTRY], rule_limit=3)
    fake.add_credential_set(
        CredentialSet(
            REGISTRY.child("credentialSets", "dockerhub"), "docker.io", USER, TOKEN, "p-1"
        )
    )
    return fake


def spec(name: str, source: str, target: str, credential: str | None = "dockerhub") -> RuleSpec:
    return RuleSpec(
        name, Upstream.parse(source, allow_wildcard=True), TargetPath.parse(target), credential
    )


def test_registry_creates_rules_and_records_writes(registry: MemoryRegistry) -> None:
    rule = registry.create_cache_rule(
        REGISTRY, spec("hub-nginx", "docker.io/library/nginx", "hub/nginx")
    )
    assert rule.credential_set_id == REGISTRY.child("credentialSets", "dockerhub")
    assert registry.list_cache_rules(REGISTRY) == [rule]
    assert registry.writes == [("create-cache-rule", str(rule.id))]


def test_registry_refuses_what_acr_refuses(registry: MemoryRegistry) -> None:
    registry.create_cache_rule(REGISTRY, spec("library-all", "docker.io/library/*", "library/*"))
    with pytest.raises(PolicyViolationError, match="overlaps"):
        registry.create_cache_rule(REGISTRY, spec("every-thing", "docker.io/*", "*"))
    with pytest.raises(PolicyViolationError, match="does not exist"):
        registry.create_cache_rule(
            REGISTRY, spec("hub-redis", "docker.io/library/redis", "hub/redis", "ghost")
        )
    registry.repositories[REGISTRY].add(TargetPath.parse("team/app"))
    with pytest.raises(PolicyViolationError, match="already exists in the registry"):
        registry.create_cache_rule(REGISTRY, spec("team-app", "ghcr.io/team/app", "team/app", None))
    registry.create_cache_rule(REGISTRY, spec("rule-two", "ghcr.io/a/b", "a/b", None))
    registry.create_cache_rule(REGISTRY, spec("rule-three", "ghcr.io/a/c", "a/c", None))
    with pytest.raises(PolicyViolationError, match="at most 3"):
        registry.create_cache_rule(REGISTRY, spec("rule-four", "ghcr.io/a/d", "a/d", None))
    assert len(registry.writes) == 3


def test_credential_sets_in_use_cannot_be_deleted(registry: MemoryRegistry) -> None:
    dockerhub = REGISTRY.child("credentialSets", "dockerhub")
    registry.create_cache_rule(REGISTRY, spec("hub-nginx", "docker.io/library/nginx", "hub/nginx"))
    with pytest.raises(ConflictError):
        registry.delete_credential_set(dockerhub)
    with pytest.raises(InvalidNameError):
        registry.create_credential_set(
            REGISTRY.child("credentialSets", "abc"),
            login_server="ghcr.io",
            username=USER,
            password=TOKEN,
        )
    with pytest.raises(NotFoundError):
        registry.get_credential_set(REGISTRY.child("credentialSets", "ghost-set"))


def test_secrets_never_hold_values_and_report_missing_secrets() -> None:
    secrets = MemorySecrets()
    version = secrets.add_version(TOKEN, created=NOW, expires=NOW + timedelta(days=1))
    assert version.is_valid_at(NOW)
    assert not version.is_valid_at(NOW + timedelta(days=1))
    secrets.update_version(version.ref, enabled=False)
    assert secrets.list_versions(TOKEN)[0].validity_problem(NOW) == "disabled"
    with pytest.raises(NotFoundError):
        secrets.list_versions(USER)


def test_access_returns_assignments_above_and_below_and_grants_once() -> None:
    access = MemoryAccess()
    secret_scope = VAULT.child("secrets", "hub-token")
    above = access.assign(VAULT.parent or VAULT, "p-1", KEY_VAULT_SECRETS_USER)
    below = access.assign(secret_scope, "p-1", KEY_VAULT_SECRETS_USER)
    access.assign(VAULT, "someone-else", KEY_VAULT_SECRETS_USER)
    assert {a.id for a in access.role_assignments(VAULT, "p-1")} == {above.id, below.id}
    first = access.grant(secret_scope, principal_id="p-2", role_id=KEY_VAULT_SECRETS_USER)
    again = access.grant(secret_scope, principal_id="p-2", role_id=KEY_VAULT_SECRETS_USER.upper())
    assert first == again and len(access.grants) == 1
    assert (
        access.role_definition(KEY_VAULT_SECRETS_USER, scope=VAULT).role_name
        == "Key Vault Secrets User"
    )


def test_policy_store_uses_etags() -> None:
    policy = Policy.from_dict(
        {
            "id": "acme",
            "upstream": "ghcr.io/acme/*",
            "action": "allow",
            "targetTemplate": "acme/{path}",
        }
    )
    store = MemoryPolicyStore([policy])
    stored = store.get_policy("acme")
    store.put_policy(policy, if_match=stored.etag)
    with pytest.raises(ConcurrencyError):
        store.put_policy(policy, if_match=stored.etag)
    store.replace_all([])
    assert store.list_policies() == []


def test_journal_claims_are_idempotent_and_expire() -> None:
    journal = MemoryJournal()
    clock = FixedClock(NOW)
    ttl = timedelta(hours=1)
    first = journal.claim("event-1", "hash-a", now=clock.now(), ttl=ttl)
    assert first.status is ClaimStatus.NEW
    assert (
        journal.claim("event-1", "hash-a", now=clock.now(), ttl=ttl).status
        is ClaimStatus.IN_PROGRESS
    )
    journal.complete(first, now=clock.now(), ttl=ttl)
    journal.release(first)  # completed since it was taken: left alone
    assert (
        journal.claim("event-1", "hash-a", now=clock.now(), ttl=ttl).status is ClaimStatus.DUPLICATE
    )
    assert (
        journal.claim("event-1", "hash-b", now=clock.now(), ttl=ttl).status
        is ClaimStatus.PAYLOAD_MISMATCH
    )
    clock.advance(ttl)
    again = journal.claim("event-1", "hash-a", now=clock.now(), ttl=ttl)
    assert again.status is ClaimStatus.NEW and again.token != first.token
    with pytest.raises(ConcurrencyError):
        journal.complete(first, now=clock.now(), ttl=ttl)  # taken over: not the old attempt's
    journal.release(again)
    assert journal.claim("event-1", "hash-a", now=clock.now(), ttl=ttl).status is ClaimStatus.NEW
    journal.record_outcome(
        Outcome("event-1", str(REGISTRY), OutcomeStatus.NO_CHANGE, "nothing to do", NOW)
    )
    assert [o.reason for o in journal.outcomes(since=NOW)] == ["nothing to do"]
