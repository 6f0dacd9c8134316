"""Access checks list an identity's role assignments once per vault and share the list.

`principalId eq` at the vault's scope returns the principal's assignments at, above and below the
vault, so one list answers for both secrets of a credential set; each check keeps only the
assignments whose scope contains its own secret.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from shared.adapters.memory import MemoryAccess
from shared.domain.ids import ResourceId
from shared.domain.models import KEY_VAULT_SECRETS_USER, CredentialSet, RoleAssignment, VaultAccess
from shared.domain.plans import ActionKind
from shared.domain.secrets import SecretRef
from shared.errors import TransientError
from shared.services.access_checks import RoleAssignmentLists
from shared.services.context import fan_out
from shared.services.diagnosis import diagnose_credential_set
from tests.fakes import CONTOSO, NOW, OTHER_VAULT, VAULT, World, make_world

PRINCIPAL = "11111111-2222-3333-4444-555555555555"
USERNAME = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-username")
PASSWORD = SecretRef.parse("https://kv-cache.vault.azure.net/secrets/hub-password")


class CountingAccess(MemoryAccess):
    """MemoryAccess that records every role-assignment list, optionally slow or failing first."""

    def __init__(self, *, delay: float = 0.0, failures: int = 0) -> None:
        super().__init__()
        self.listed: list[tuple[ResourceId, str]] = []
        self._delay = delay
        self._failures = failures
        self._count_lock = threading.Lock()

    def role_assignments(self, scope: ResourceId, principal_id: str) -> list[RoleAssignment]:
        with self._count_lock:
            self.listed.append((scope, principal_id))
            fail = self._failures > 0
            self._failures -= 1
        time.sleep(self._delay)
        if fail:
            raise TransientError("throttled")
        return super().role_assignments(scope, principal_id)


def world_with(access: CountingAccess) -> World:
    world = make_world()
    world.ctx = replace(world.ctx, access=access)
    world.access = access
    access.add_vault(VaultAccess(VAULT, True))
    for secret in (USERNAME, PASSWORD):
        world.secrets.add_version(secret, created=NOW - timedelta(days=1))
    return world


def hub(principal: str = PRINCIPAL, name: str = "hub") -> CredentialSet:
    return CredentialSet(
        CONTOSO.child("credentialSets", name), "docker.io", USERNAME, PASSWORD, principal
    )


def test_both_secrets_of_a_vault_are_checked_from_one_list_at_the_vault() -> None:
    access = CountingAccess()
    world = world_with(access)
    access.assign(VAULT, PRINCIPAL, KEY_VAULT_SECRETS_USER)
    plan = diagnose_credential_set(world.ctx, hub(), fix=False)
    assert access.listed == [(VAULT, PRINCIPAL)]
    assert plan.findings == ()


def test_a_grant_on_one_secret_does_not_count_for_the_other() -> None:
    access = CountingAccess()
    world = world_with(access)
    access.assign(VAULT.child("secrets", USERNAME.name), PRINCIPAL, KEY_VAULT_SECRETS_USER)
    # another identity's vault-wide grant, and this one's grant in another vault, don't count
    access.assign(VAULT, "99999999-2222-3333-4444-555555555555", KEY_VAULT_SECRETS_USER)
    access.assign(OTHER_VAULT, PRINCIPAL, KEY_VAULT_SECRETS_USER)
    plan = diagnose_credential_set(world.ctx, hub(), fix=True)
    denied = [f for f in plan.findings if f.kind == "access-denied"]
    assert [f.evidence["secret"] for f in denied] == [str(PASSWORD)]
    grants = [a.resource for a in plan.actions if a.kind is ActionKind.GRANT_SECRET_READ]
    assert grants == [str(VAULT.child("secrets", PASSWORD.name))]
    assert access.listed == [(VAULT, PRINCIPAL)]


def test_diagnoses_sharing_the_lists_list_each_identity_once() -> None:
    access = CountingAccess(delay=0.02)
    world = world_with(access)
    access.assign(VAULT, PRINCIPAL, KEY_VAULT_SECRETS_USER)
    lists = RoleAssignmentLists(world.ctx)
    sets = [hub(name=f"hub{i}") for i in range(6)] + [hub("aaaaaaaa-2222-3333-4444-555555555555")]
    plans = fan_out(lambda c: diagnose_credential_set(world.ctx, c, fix=False, lists=lists), sets)
    assert sorted(access.listed) == sorted(
        [(VAULT, PRINCIPAL), (VAULT, "aaaaaaaa-2222-3333-4444-555555555555")]
    )
    assert all(p.findings == () for p in plans[:6])
    assert {f.kind for f in plans[6].findings} == {"access-denied"}


def test_concurrent_callers_wait_for_the_list_in_flight() -> None:
    access = CountingAccess(delay=0.05)
    world = world_with(access)
    lists = RoleAssignmentLists(world.ctx)
    results = fan_out(lambda _: lists.at_vault(VAULT, PRINCIPAL.upper()), range(8))
    assert len(access.listed) == 1
    assert all(r is results[0] for r in results)


def test_a_failed_list_is_not_remembered() -> None:
    access = CountingAccess(failures=1)
    world = world_with(access)
    access.assign(VAULT, PRINCIPAL, KEY_VAULT_SECRETS_USER)
    lists = RoleAssignmentLists(world.ctx)
    with pytest.raises(TransientError):
        lists.at_vault(VAULT, PRINCIPAL)
    assert [a.scope for a in lists.at_vault(VAULT, PRINCIPAL)] == [VAULT]
    assert len(access.listed) == 2


class CountingVaultLists(CountingAccess):
    """Also records every unfiltered list of a vault (everyone's assignments)."""

    def __init__(self) -> None:
        super().__init__()
        self.whole: list[ResourceId] = []

    def all_role_assignments(self, scope: ResourceId) -> list[RoleAssignment]:
        with self._count_lock:
            self.whole.append(scope)
        return super().all_role_assignments(scope)


VAULT_WIDE = "aaaaaaaa-0000-0000-0000-000000000001"
ON_SECRETS = "aaaaaaaa-0000-0000-0000-000000000002"
NOTHING = "aaaaaaaa-0000-0000-0000-000000000003"
CONDITIONAL = "aaaaaaaa-0000-0000-0000-000000000004"


def test_a_batch_answers_every_identity_of_a_vault_from_one_list_of_the_vault() -> None:
    access = CountingVaultLists()
    world = world_with(access)
    access.assign(VAULT, VAULT_WIDE, KEY_VAULT_SECRETS_USER)
    for secret in (USERNAME, PASSWORD):
        access.assign(VAULT.child("secrets", secret.name), ON_SECRETS, KEY_VAULT_SECRETS_USER)
    access.assign(VAULT.child("secrets", USERNAME.name), CONDITIONAL, KEY_VAULT_SECRETS_USER,
                  condition="@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'x'")  # fmt: skip
    access.assign(OTHER_VAULT, NOTHING, KEY_VAULT_SECRETS_USER)  # another vault: does not count
    lists = RoleAssignmentLists(world.ctx, whole_vault=True)
    principals = [VAULT_WIDE, ON_SECRETS, NOTHING, CONDITIONAL] * 3
    plans = fan_out(
        lambda p: diagnose_credential_set(
            world.ctx, hub(p, name=f"s{p[-1]}"), fix=False, lists=lists
        ),
        principals,
    )
    assert (access.whole, access.listed) == ([VAULT], [])  # one list, shared by every check
    verdicts = {
        p: sorted({(f.kind, f.evidence.get("verdict")) for f in plan.findings})
        for p, plan in zip(principals, plans, strict=True)
    }
    assert verdicts[VAULT_WIDE] == verdicts[ON_SECRETS] == []
    assert verdicts[NOTHING] == [("access-denied", "denied")]
    assert verdicts.get(CONDITIONAL)  # a condition is not assumed to hold


def test_a_batch_judges_as_the_per_identity_lists_do() -> None:
    access = CountingVaultLists()
    world = world_with(access)
    access.assign(VAULT, VAULT_WIDE, KEY_VAULT_SECRETS_USER)
    access.assign(VAULT.child("secrets", PASSWORD.name), ON_SECRETS, KEY_VAULT_SECRETS_USER)
    sets = [hub(p, name=f"s{p[-1]}") for p in (VAULT_WIDE, ON_SECRETS, NOTHING)]
    batch = RoleAssignmentLists(world.ctx, whole_vault=True)
    one_by_one = [diagnose_credential_set(world.ctx, c, fix=True) for c in sets]
    batched = [diagnose_credential_set(world.ctx, c, fix=True, lists=batch) for c in sets]
    assert batched == one_by_one


def test_a_single_diagnosis_lists_its_identity_directly() -> None:
    access = CountingVaultLists()
    world = world_with(access)
    access.assign(VAULT, VAULT_WIDE, KEY_VAULT_SECRETS_USER)
    diagnose_credential_set(world.ctx, hub(VAULT_WIDE), fix=False)
    assert (access.whole, access.listed) == ([], [(VAULT, VAULT_WIDE)])
