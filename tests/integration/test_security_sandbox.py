"""Security checks as tests, against the sandbox and the admin routes.

- events whose topic is not an allowed vault or a managed registry change nothing (not one ARM or
  Key Vault request), whatever they name inside;
- the only role ever granted is Key Vault Secrets User at one secret's scope, to the principal of
  a credential set that reads that secret (and the checker used by the soak does catch others);
- admin writes need the ADMIN_APP_ROLE app role when Entra ID authentication fronts the app
  (`X-MS-CLIENT-PRINCIPAL`), and every admin route needs at least a function key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import azure.functions as func
import pytest

from sandbox import Sandbox
from shared import bootstrap
from shared.adapters.memory import MemoryJournal
from shared.domain.models import KEY_VAULT_SECRETS_USER
from shared.errors import ConfigurationError
from shared.services.reactions import react
from shared.services.results import Reaction, ReactionStatus
from shared.signals import KEY_VAULT, PULL_FAILURES, REGISTRY, REPOSITORY_REQUESTS
from tests.conftest import ROOT
from tests.function_index import indexed_functions, invocation
from tests.integration.app_context import REGISTRIES, SUB, VAULTS, demo_settings
from tests.soak.checks import grant_violations
from tests.soak.run import FOREIGN_REGISTRY, FOREIGN_VAULT
from tests.soak.wiring import fast_context

PUSHED = "tests/events/containerregistry.ImagePushed.eventgrid.json"


def _rotation(sandbox: Sandbox, **changes: Any) -> dict[str, Any]:
    event = dict(sandbox.add_secret_version("kv-cache-rbac", "dockerhub-password")["eventGrid"])
    event.update(changes)
    return event


def _signal(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"sec-{kind}",
        "source": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
        "type": kind,
        "time": "2030-01-01T00:00:00Z",
        "data": data,
    }


def _pull(sandbox: Sandbox) -> dict[str, Any]:
    data = {"registry": FOREIGN_REGISTRY, "repository": "dockerhub/library/nginx", "status": 401}
    return _signal("cachekeeper.PullFailed", data)


def _request(sandbox: Sandbox) -> dict[str, Any]:
    data = {"registry": FOREIGN_REGISTRY, "upstream": "docker.io/library/busybox"}
    return _signal("cachekeeper.RepositoryRequested", data)


def _push(sandbox: Sandbox) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / PUSHED).read_text())
    return {**event, "topic": FOREIGN_REGISTRY}


Build = Callable[[Sandbox], dict[str, Any]]
FOREIGN: dict[str, tuple[Callable[..., Reaction], Build]] = {
    "a vault not on the allow-list": (
        partial(react, KEY_VAULT),
        lambda sb: _rotation(sb, topic=FOREIGN_VAULT),
    ),
    "a registry id as a Key Vault topic": (
        partial(react, KEY_VAULT),
        lambda sb: _rotation(sb, topic=REGISTRIES["contosocache"]),
    ),
    "an allowed topic naming another vault's secret": (
        partial(react, KEY_VAULT),
        lambda sb: _rotation(sb, topic=VAULTS["kv-cache-policies"]),
    ),
    "a pull failure in an unmanaged registry": (partial(react, PULL_FAILURES), _pull),
    "a repository request for an unmanaged registry": (
        partial(react, REPOSITORY_REQUESTS),
        _request,
    ),
    "an image push to an unmanaged registry": (partial(react, REGISTRY), _push),
}


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_events_from_foreign_topics_change_nothing(sandbox: Sandbox, case: str) -> None:
    react, build = FOREIGN[case]
    journal = MemoryJournal()
    ctx = fast_context(sandbox, settings=demo_settings(REMEDIATION_MODE="fix"), journal=journal)
    before = sandbox.credential_set("contosocache", "dockerhub").credentials[0]
    event = build(sandbox)
    sandbox.log.clear()
    reaction = react(event, ctx)
    assert reaction.status is ReactionStatus.IGNORED, reaction.reason
    assert sandbox.log.all() == []  # not even a read
    assert sandbox.credential_set("contosocache", "dockerhub").credentials[0] == before
    assert [o.status.value for o in journal.outcome_log] == ["ignored"]
    # and a redelivery is a duplicate, not a second outcome
    assert react(event, ctx).status is ReactionStatus.DUPLICATE
    assert len(journal.outcome_log) == 1


def test_repairs_grant_only_secrets_user_at_secret_scope_to_the_sets_own_identity(
    sandbox: Sandbox,
) -> None:
    ctx = fast_context(sandbox, settings=demo_settings(REMEDIATION_MODE="fix"))
    for registry, name in [("contosocache", "quay-io"), ("contosocache", "dockerhub")]:
        sandbox.remove_role_assignments(principal_id=sandbox.principal_of(registry, name))
    for repository in ("quay/prometheus/prometheus", "dockerhub/library/nginx"):
        event = _signal(
            "cachekeeper.PullFailed",
            {"registry": REGISTRIES["contosocache"], "repository": repository, "status": 401},
        )
        event["id"] = f"grant-{repository}"
        assert react(PULL_FAILURES, event, ctx).status is ReactionStatus.APPLIED
    puts = sandbox.log.matching("/roleAssignments/", method="PUT")
    assert len(puts) == 4  # two secrets each, one grant per secret
    assert grant_violations(sandbox) == []


def test_the_grant_checker_flags_anything_wider(sandbox: Sandbox) -> None:
    """The soak relies on grant_violations: it must catch a wrong role, scope or principal."""
    from azure.mgmt.authorization import AuthorizationManagementClient

    client = AuthorizationManagementClient(
        sandbox.credential(), SUB, transport=sandbox.transport(sleep_scale=0)
    )
    principal = sandbox.principal_of("contosocache", "quay-io")
    vault = VAULTS["kv-cache-rbac"]
    role = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
    reader = "21090545-7ca7-4776-b22c-e363652d74d2"  # Key Vault Reader
    grants = [
        (f"{vault}/secrets/quay-password", reader, principal),  # wrong role
        (vault, KEY_VAULT_SECRETS_USER, principal),  # vault scope
        (
            f"{vault}/secrets/dockerhub-password",
            KEY_VAULT_SECRETS_USER,
            principal,
        ),  # not its secret
    ]
    for index, (scope, role_id, who) in enumerate(grants):
        client.role_assignments.create(
            scope,
            f"00000000-0000-4000-8000-00000000000{index}",
            {"properties": {"roleDefinitionId": role + role_id, "principalId": who,
                            "principalType": "ServicePrincipal"}},
        )  # fmt: skip
    problems = grant_violations(sandbox)
    assert len(problems) == 3
    assert "not Key Vault Secrets User" in problems[0]
    assert "not a single secret" in problems[1]
    assert "is no credential set reading" in problems[2]


# ---- admin routes ---------------------------------------------------------------------------

WRITES = [
    ("sync_credential_set", "POST", {"registry": "contosocache", "name": "ghcr-acme"}),
    ("pull_failure_alert", "POST", {}),
    ("policy", "PUT", {"id": "mcr-all"}),
    ("policy", "DELETE", {"id": "mcr-all"}),
    ("import_policies", "POST", {}),
    ("test_policies", "POST", {}),
    ("request_repository", "POST", {}),
    ("run_audit", "POST", {}),
    ("plan", "POST", {}),
    ("apply", "POST", {}),
]


def principal_header(*roles: str, role_type: str = "roles") -> str:
    document = {
        "auth_typ": "aad",
        "name_typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "role_typ": role_type,
        "claims": [{"typ": "name", "val": "someone@contoso.example"}]
        + [{"typ": role_type, "val": role} for role in roles],
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.fixture
def wired(sandbox: Sandbox) -> Iterator[Sandbox]:
    settings = demo_settings(APP_SERVICE_AUTHENTICATION="true")  # Entra ID fronts the app
    bootstrap.configure(context=fast_context(sandbox, settings=settings))
    sandbox.log.clear()
    yield sandbox
    bootstrap.reset()


def call(
    name: str, method: str, route: dict[str, str], headers: dict[str, str]
) -> func.HttpResponse:
    request = func.HttpRequest(
        method,
        f"/api/{name}",
        body=b"{}",
        route_params=route,
        params={},
        headers={"content-type": "application/json", **headers},
    )
    response = indexed_functions()[name].get_user_function()(request, invocation(name))
    assert isinstance(response, func.HttpResponse)
    return response


@pytest.mark.parametrize(("name", "method", "route"), WRITES)
@pytest.mark.parametrize(
    "header",
    [principal_header("Cachekeeper.Reader"), principal_header(), "not base64!", "e30="],
    ids=["other-role", "no-roles", "garbage", "empty-json"],
)
def test_writes_without_the_app_role_are_forbidden_and_do_nothing(
    wired: Sandbox, name: str, method: str, route: dict[str, str], header: str
) -> None:
    response = call(name, method, route, {"X-MS-CLIENT-PRINCIPAL": header})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert json.loads(response.get_body())["code"] == "Forbidden"
    assert wired.log.all() == []


@pytest.mark.parametrize(("name", "method", "route"), WRITES)
def test_writes_with_the_app_role_or_without_entra_id_go_through(
    wired: Sandbox, name: str, method: str, route: dict[str, str]
) -> None:
    admin = principal_header(
        "Cachekeeper.Admin",
        role_type="http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    )
    for headers in ({"X-MS-CLIENT-PRINCIPAL": admin}, {}):
        response = call(name, method, route, headers)
        assert response.status_code != 403, response.get_body()
        assert response.status_code < 500, response.get_body()


def test_reads_need_no_app_role(wired: Sandbox) -> None:
    response = call("list_policies", "GET", {}, {"X-MS-CLIENT-PRINCIPAL": principal_header()})
    assert response.status_code == 200


def test_the_app_role_is_configurable(sandbox: Sandbox) -> None:
    bootstrap.configure(
        context=fast_context(
            sandbox,
            settings=demo_settings(ADMIN_APP_ROLE="Ops.Writer", APP_SERVICE_AUTHENTICATION="true"),
        )
    )
    try:
        name, method, route = WRITES[-2]  # plan: a write method that changes nothing
        denied = call(
            name, method, route, {"X-MS-CLIENT-PRINCIPAL": principal_header("Cachekeeper.Admin")}
        )
        allowed = call(
            name, method, route, {"X-MS-CLIENT-PRINCIPAL": principal_header("Ops.Writer")}
        )
    finally:
        bootstrap.reset()
    assert denied.status_code == 403
    assert allowed.status_code != 403
    with pytest.raises(ConfigurationError, match="ADMIN_APP_ROLE"):
        demo_settings(ADMIN_APP_ROLE="two words")


def test_every_admin_route_needs_a_key_on_the_functions_host() -> None:
    """Anonymous callers reach only /api/health; everything else needs a function key (or the
    admin key), and the Functions host answers 401 before any code runs."""
    levels: dict[str, str] = {}
    for name, function in indexed_functions().items():
        for binding in function.get_bindings():
            data = binding.get_dict_repr()
            if data.get("type") == "httpTrigger":
                levels[name] = str(data.get("authLevel")).upper()
    assert levels.pop("health") == "ANONYMOUS"
    assert len(levels) >= 15
    assert set(levels.values()) <= {"FUNCTION", "ADMIN"}, levels
    # every write route in WRITES is among them, so the list above cannot silently fall behind
    assert {name for name, _, _ in WRITES} <= set(levels)
