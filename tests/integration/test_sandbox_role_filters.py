"""The role-assignment `$filter`s ARM refuses, through the real SDK client (docs/fidelity.md, RBAC):
an unquoted principal id (Azure/azure-rest-api-specs#28255) and `atScope()` combined with
`principalId eq` (Azure/azure-powershell PR #20433: the API does not allow it; `atScope()` goes
with `assignedTo()`). The refusal names the supported filters, as ARM's message does."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from sandbox import Sandbox
from tests.integration.conftest import SdkClients

pytestmark = pytest.mark.instant_azure


def _listed(clients: SdkClients, scope: str, filter_: str) -> set[str]:
    found = clients.authorization.role_assignments.list_for_scope(scope, filter=filter_)
    return {assignment.scope.lower() for assignment in found}


@pytest.mark.parametrize(
    "shape",
    ["principalId eq {id}", "atScope() and principalId eq '{id}'", "roleName eq 'x'"],
)
def test_arm_refuses_the_filters_it_does_not_take(
    sdk_clients: SdkClients, sandbox: Sandbox, shape: str
) -> None:
    principal = sandbox.principal_of("contosocache", "dockerhub")
    vault = sandbox.vault("kv-cache-rbac")
    with pytest.raises(HttpResponseError) as refused:
        _listed(sdk_clients, vault.id, shape.format(id=principal))
    assert refused.value.status_code == 400
    assert "Supported filters are either 'atScope()'" in str(refused.value.message)


def test_at_scope_goes_with_assigned_to(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    principal = sandbox.principal_of("contosocache", "dockerhub")
    vault = sandbox.vault("kv-cache-rbac")
    on_secret = vault.secret_scope("dockerhub-username").lower()
    everywhere = _listed(sdk_clients, vault.id, f"principalId eq '{principal}'")
    at_or_above = _listed(sdk_clients, vault.id, f"atScope() and assignedTo('{principal}')")
    assert on_secret in everywhere
    assert on_secret not in at_or_above
    assert at_or_above <= everywhere
