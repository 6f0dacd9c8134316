"""credentialHealth lags and role assignments take effect late, as in Azure (through the SDKs).

ACR evaluates a credential set's health on its own schedule (Azure/acr#892, #893), and a role
assignment can take up to 10 minutes to apply (Azure RBAC troubleshooting). The sandbox models
both on its clock: health evaluated on write and then every `health_refresh_seconds`, role
assignments (and removals) honoured by access evaluation `rbac_delay_seconds` after they were
made, while ARM lists them at once. docs/fidelity.md, "Health and RBAC timing".
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from azure.mgmt.authorization.models import RoleAssignmentCreateParameters
from azure.mgmt.containerregistry.models import CredentialSetUpdateParameters

from sandbox import Sandbox
from sandbox.scenario import ScenarioError
from tests.integration.conftest import RG_CACHE, SUBSCRIPTION, TIER_TIMING, SdkClients

SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROLE_ID = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER}"
START = "2026-03-01T12:00:00Z"


def _health(clients: SdkClients, name: str) -> tuple[str, str | None]:
    cred = clients.acr.credential_sets.get(RG_CACHE, "contosocache", name)
    health = cred.auth_credentials[0].credential_health
    return health.status.value, health.error_code


def _rewrite(clients: SdkClients, name: str) -> None:
    """PATCH the credential set with the identifiers it has (what the product's refresh does)."""
    current = clients.acr.credential_sets.get(RG_CACHE, "contosocache", name)
    clients.acr.credential_sets.begin_update(
        RG_CACHE,
        "contosocache",
        name,
        CredentialSetUpdateParameters(auth_credentials=current.auth_credentials),
        polling_interval=0,
    ).result()


def _grant(clients: SdkClients, principal: str, scope: str) -> str:
    name = str(uuid.uuid4())
    clients.authorization.role_assignments.create(
        scope,
        name,
        RoleAssignmentCreateParameters(
            role_definition_id=ROLE_ID, principal_id=principal, principal_type="ServicePrincipal"
        ),
    )
    return name


def test_the_tier_runs_with_lag_and_delay(sandbox: Sandbox) -> None:
    assert sandbox.timing() == {"healthRefreshSeconds": 60.0, "rbacDelaySeconds": 120.0}
    assert {k: getattr(sandbox.options, k) for k in TIER_TIMING} == TIER_TIMING


def test_health_is_the_last_evaluation_until_the_next_is_due(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    sandbox.clock.set(START)
    _rewrite(sdk_clients, "dockerhub")  # evaluated on write: Healthy
    sandbox.disable_secret_version("kv-cache-rbac", "dockerhub-password")
    assert _health(sdk_clients, "dockerhub") == ("Healthy", None)  # stale, as in Azure/acr#892
    sandbox.clock.advance(59)
    assert _health(sdk_clients, "dockerhub") == ("Healthy", None)
    sandbox.clock.advance(1)
    assert _health(sdk_clients, "dockerhub") == ("Unhealthy", "SecretDisabled")

    sandbox.enable_secret_version("kv-cache-rbac", "dockerhub-password")
    assert _health(sdk_clients, "dockerhub") == ("Unhealthy", "SecretDisabled")
    _rewrite(sdk_clients, "dockerhub")  # a write makes ACR evaluate at once
    assert _health(sdk_clients, "dockerhub") == ("Healthy", None)


def test_a_grant_is_listed_at_once_and_honoured_after_the_delay(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    sandbox.clock.set(START)
    principal = sandbox.principal_of("contosocache", "quay-io")
    vault = sandbox.vault("kv-cache-rbac")
    _grant(sdk_clients, principal, vault.id)
    listed = sdk_clients.authorization.role_assignments.list_for_scope(
        vault.id, filter=f"principalId eq '{principal}'"
    )
    assert [a.principal_id for a in listed] == [principal]  # ARM shows it at once

    _rewrite(sdk_clients, "quay-io")  # re-evaluated, but the grant is not in effect yet
    assert _health(sdk_clients, "quay-io") == ("Unhealthy", "AccessDenied")
    sandbox.clock.advance(119)
    _rewrite(sdk_clients, "quay-io")
    assert _health(sdk_clients, "quay-io") == ("Unhealthy", "AccessDenied")
    sandbox.clock.advance(1)
    assert _health(sdk_clients, "quay-io") == ("Unhealthy", "AccessDenied")  # not evaluated yet
    sandbox.clock.advance(59)  # the next scheduled evaluation (60 s after the last write)
    assert _health(sdk_clients, "quay-io") == ("Healthy", None)


def test_a_scheduled_evaluation_is_made_as_of_its_moment(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    sandbox.clock.set(START)
    principal = sandbox.principal_of("contosocache", "quay-io")
    _rewrite(sdk_clients, "quay-io")  # evaluations due at +60, +120, +180 ...
    _grant(sdk_clients, principal, sandbox.vault("kv-cache-rbac").id)  # in effect at +120
    sandbox.clock.advance(110)  # the evaluation at +60 still stands, made before the grant
    assert _health(sdk_clients, "quay-io") == ("Unhealthy", "AccessDenied")
    sandbox.clock.advance(10)
    assert _health(sdk_clients, "quay-io") == ("Healthy", None)


def test_a_removal_is_listed_at_once_and_honoured_after_the_delay(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    sandbox.clock.set(START)
    principal = sandbox.principal_of("contosocache", "dockerhub")
    vault = sandbox.vault("kv-cache-rbac")
    for assignment in sdk_clients.authorization.role_assignments.list_for_scope(
        vault.id, filter=f"principalId eq '{principal}'"
    ):
        sdk_clients.authorization.role_assignments.delete(assignment.scope, assignment.name)
    remaining = sdk_clients.authorization.role_assignments.list_for_scope(
        vault.id, filter=f"principalId eq '{principal}'"
    )
    assert list(remaining) == []
    _rewrite(sdk_clients, "dockerhub")
    assert _health(sdk_clients, "dockerhub") == ("Healthy", None)  # the removal is not in effect
    sandbox.clock.advance(120)
    _rewrite(sdk_clients, "dockerhub")
    assert _health(sdk_clients, "dockerhub") == ("Unhealthy", "AccessDenied")


@pytest.mark.instant_azure
def test_instant_azure_reports_live_health_and_applies_grants_at_once(
    sandbox: Sandbox, sdk_clients: SdkClients
) -> None:
    principal = sandbox.principal_of("contosocache", "quay-io")
    assert _health(sdk_clients, "quay-io") == ("Unhealthy", "AccessDenied")
    _grant(sdk_clients, principal, sandbox.vault("kv-cache-rbac").id)
    assert _health(sdk_clients, "quay-io") == ("Healthy", None)


def test_a_scenario_sets_the_timing_and_the_caller_overrides_it(sandbox: Sandbox) -> None:
    doc = {**sandbox.scenario.raw, "timing": {"healthRefreshSeconds": 30, "rbacDelaySeconds": 600}}
    assert Sandbox(doc).timing() == {"healthRefreshSeconds": 30.0, "rbacDelaySeconds": 600.0}
    assert Sandbox(doc, rbac_delay_seconds=0).options.rbac_delay_seconds == 0
    with pytest.raises(ScenarioError, match="rbacDelaySeconds"):
        Sandbox({"timing": {"rbacDelaySeconds": -1}})
    with pytest.raises(ScenarioError, match="unknown timing"):
        Sandbox({"timing": {"healthRefresh": 1}})


def _post(url: str, body: object) -> tuple[int, object]:
    request = urllib.request.Request(  # noqa: S310 - the test's own server on 127.0.0.1
        url, data=json.dumps(body).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_the_control_api_sets_the_timing(sandbox: Sandbox, server: str) -> None:
    status, body = _post(f"{server}/_sandbox/options", {"healthRefreshSeconds": 0})
    assert (status, body) == (200, {"healthRefreshSeconds": 0.0, "rbacDelaySeconds": 120.0})
    assert sandbox.options.health_refresh_seconds == 0
    status, body = _post(f"{server}/_sandbox/options", {"rbacDelaySeconds": "soon"})
    assert status == 400 and "rbacDelaySeconds" in str(body)
    status, body = _post(f"{server}/_sandbox/options", {"delay": 1})
    assert status == 400 and "unknown option" in str(body)
