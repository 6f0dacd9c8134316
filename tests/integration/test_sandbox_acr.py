"""ACR artifact-cache surface through the real azure-mgmt-containerregistry client."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceResponseError,
)
from azure.mgmt.containerregistry.models import (
    AuthCredential,
    CacheRule,
    CacheRuleUpdateParameters,
    CredentialSet,
    CredentialSetUpdateParameters,
    IdentityProperties,
)

from sandbox import Sandbox
from tests.integration.conftest import RG_CACHE, SdkClients, make_clients

CONTOSO_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-cache"
    "/providers/Microsoft.ContainerRegistry/registries/contosocache"
)
DOCKERHUB_ID = f"{CONTOSO_ID}/credentialSets/dockerhub"


def _create(
    clients: SdkClients, name: str, source: str, target: str, cred: str | None = None
) -> CacheRule:
    rule = CacheRule(
        source_repository=source, target_repository=target, credential_set_resource_id=cred
    )
    return clients.acr.cache_rules.begin_create(RG_CACHE, "contosocache", name, rule).result()


def test_list_follows_next_link_past_one_page(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    names = [r.name for r in sdk_clients.acr.cache_rules.list(RG_CACHE, "contosocache")]

    assert names == ["dockerhub-library", "ghcr-acme", "mcr-dotnet-runtime", "quay-prometheus"]
    pages = sandbox.requests_matching(r"/cacheRules$", method="GET")
    assert len(pages) == 2  # page size 2 in the fixture
    assert pages[1].query.get("$skipToken") == "2"


def test_registries_list_by_subscription_and_get(sdk_clients: SdkClients) -> None:
    registries = {r.name: r for r in sdk_clients.acr.registries.list()}

    assert set(registries) == {"contosocache", "fabrikamcache"}
    by_group = [r.name for r in sdk_clients.acr.registries.list_by_resource_group(RG_CACHE)]
    assert sorted(by_group) == ["contosocache", "fabrikamcache"]
    assert list(sdk_clients.acr.registries.list_by_resource_group("rg-empty")) == []
    got = sdk_clients.acr.registries.get(RG_CACHE, "contosocache")
    assert got.login_server == "contosocache.azurecr.io"
    assert got.id == CONTOSO_ID


def test_create_cache_rule_runs_the_lro_to_succeeded(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    sandbox.options.lro_in_progress_polls = 1  # Retry-After: 0 + polling_interval=0: no waiting
    sandbox.clock.set("2026-01-01T00:00:00Z")
    poller = sdk_clients.acr.cache_rules.begin_create(
        RG_CACHE,
        "contosocache",
        "mcr-dotnet-sdk",
        CacheRule(
            source_repository="mcr.microsoft.com/dotnet/sdk", target_repository="mcr/dotnet/sdk"
        ),
        polling_interval=0,
    )
    rule = poller.result()

    assert rule.provisioning_state == "Succeeded"
    assert rule.target_repository == "mcr/dotnet/sdk"
    polls = sandbox.requests_matching("/operationStatuses/")
    assert [p.status for p in polls] == [200, 200]  # InProgress once, then Succeeded
    put = sandbox.requests_matching("/cacheRules/mcr-dotnet-sdk$", method="PUT")[0]
    assert put.status == 201 and put.write


def test_replacing_a_rule_answers_200_and_delete_runs_its_lro(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    _create(sdk_clients, "mcr-dotnet-sdk", "mcr.microsoft.com/dotnet/sdk", "mcr/dotnet/sdk")
    _create(sdk_clients, "mcr-dotnet-sdk", "mcr.microsoft.com/dotnet/sdk", "mcr/dotnet/sdk")
    puts = sandbox.requests_matching("/cacheRules/mcr-dotnet-sdk$", method="PUT")
    assert [p.status for p in puts] == [201, 200]

    sdk_clients.acr.cache_rules.begin_delete(RG_CACHE, "contosocache", "mcr-dotnet-sdk").result()

    assert "mcr-dotnet-sdk" not in sandbox.registry("contosocache").cache_rules
    deletes = sandbox.requests_matching("/cacheRules/mcr-dotnet-sdk$", method="DELETE")
    assert [d.status for d in deletes] == [202]
    sdk_clients.acr.cache_rules.begin_delete(RG_CACHE, "contosocache", "mcr-dotnet-sdk").result()
    assert (
        sandbox.requests_matching("/cacheRules/mcr-dotnet-sdk$", method="DELETE")[-1].status == 204
    )


def test_missing_rule_is_resource_not_found(sdk_clients: SdkClients) -> None:
    with pytest.raises(ResourceNotFoundError) as info:
        sdk_clients.acr.cache_rules.get(RG_CACHE, "contosocache", "no-such-rule")
    assert info.value.error is not None and info.value.error.code == "ResourceNotFound"


def test_missing_registry_is_resource_not_found(sdk_clients: SdkClients) -> None:
    with pytest.raises(ResourceNotFoundError):
        list(sdk_clients.acr.credential_sets.list(RG_CACHE, "nosuchregistry"))


def test_scripted_429_is_retried_transparently(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    sandbox.faults.script("/cacheRules/", "429", count=1, retry_after=0)

    rule = sdk_clients.acr.cache_rules.get(RG_CACHE, "contosocache", "ghcr-acme")

    assert rule.name == "ghcr-acme"
    statuses = [r.status for r in sandbox.requests_matching("/cacheRules/ghcr-acme$")]
    assert statuses == [429, 200]
    assert sandbox.requests_matching(fault := "/cacheRules/ghcr-acme$")[0].fault == "429", fault


def test_persistent_503_surfaces_after_retries(sandbox: Sandbox) -> None:
    clients = make_clients(sandbox, retry_total=1)
    sandbox.faults.script("/cacheRules/", "503", count=5)
    with pytest.raises(HttpResponseError) as info:
        clients.acr.cache_rules.get(RG_CACHE, "contosocache", "ghcr-acme")
    assert info.value.status_code == 503
    assert len(sandbox.requests_matching("/cacheRules/ghcr-acme$")) == 2
    clients.close()


def test_injected_timeout_raises_the_transport_timeout(sandbox: Sandbox) -> None:
    clients = make_clients(sandbox, retry_total=0)
    sandbox.faults.script("/credentialSets/", "timeout", count=1)
    with pytest.raises(ServiceResponseError) as info:
        clients.acr.credential_sets.get(RG_CACHE, "contosocache", "dockerhub")
    assert type(info.value).__name__ == "ServiceResponseTimeoutError"
    assert sandbox.requests[-1].fault == "timeout"
    clients.close()


def test_rate_faults_are_reproducible_with_a_seed(sandbox: Sandbox) -> None:
    def run() -> list[int]:
        sb = Sandbox(sandbox.scenario.raw, seed=7)
        sb.faults.rate("500", 0.5, pattern="/registries/")
        clients = make_clients(sb, retry_total=0)
        for _ in range(12):
            try:
                clients.acr.registries.get(RG_CACHE, "contosocache")
            except HttpResponseError:
                pass
        clients.close()
        return [r.status for r in sb.requests]

    first = run()
    assert first == run()
    assert {200, 500} <= set(first)


@pytest.mark.parametrize(
    ("name", "source", "target", "code"),
    [
        # contosocache has the wildcard dockerhub/library/*: a parent or child wildcard overlaps.
        ("dockerhub-all", "docker.io/*", "dockerhub/*", "CacheRuleOverlap"),
        (
            "dockerhub-lib-py",
            "docker.io/library/python/*",
            "dockerhub/library/python/*",
            "CacheRuleOverlap",
        ),
        ("everything", "mcr.microsoft.com/*", "*", "CacheRuleOverlap"),
        (
            "mcr-runtime-2",
            "mcr.microsoft.com/dotnet/runtime",
            "mcr/dotnet/runtime",
            "CacheRuleOverlap",
        ),
        # real codes: Azure/ARO-HCP#2639, #5176, terraform-provider-azurerm#27983 (fidelity.md)
        (
            "team-a-api",
            "ghcr.io/team-a/api",
            "team-a/api",
            "TargetRepositoryAlreadyPresentInRegistry",
        ),
        (
            "team-a-all",
            "ghcr.io/team-a/*",
            "team-a/*",
            "TargetRepositoryPrefixMatchesExistingRegistries",
        ),
        (
            "mcr-all",
            "mcr.microsoft.com/*",
            "mcr/*",
            "TargetRepositoryPrefixMatchesExistingRegistries",
        ),
        (
            "dockerhub-nocreds",
            "docker.io/library/alpine",
            "hub/alpine",
            "EnforceDockerAuthentication",
        ),
        (
            "gar-nocreds",
            "europe-docker.pkg.dev/acme/images/app",
            "gar/app",
            "CredentialSetRequired",
        ),
        ("bad", "mcr.microsoft.com/x", "mcr/x", "InvalidResourceName"),
        ("bad_name!", "mcr.microsoft.com/x", "mcr/x", "InvalidResourceName"),
        ("half-wildcard", "mcr.microsoft.com/*", "mcr/dotnet", "InvalidWildcardRule"),
    ],
)
def test_acr_refuses_invalid_rules(
    sdk_clients: SdkClients, name: str, source: str, target: str, code: str
) -> None:
    cred = (
        DOCKERHUB_ID
        if source.startswith("docker.io/") and code != "EnforceDockerAuthentication"
        else None
    )
    with pytest.raises(HttpResponseError) as info:
        _create(sdk_clients, name, source, target, cred)
    assert info.value.error is not None and info.value.error.code == code
    assert info.value.status_code in (400, 409)


def test_static_rule_under_a_wildcard_is_allowed(sdk_clients: SdkClients) -> None:
    rule = _create(
        sdk_clients,
        "dockerhub-nginx",
        "docker.io/library/nginx",
        "dockerhub/library/nginx",
        DOCKERHUB_ID,
    )
    assert rule.provisioning_state == "Succeeded"


def test_rule_limit_is_enforced(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    sandbox.options.max_cache_rules = 5
    _create(sdk_clients, "mcr-one", "mcr.microsoft.com/one", "mcr/one")
    with pytest.raises(ResourceExistsError) as info:
        _create(sdk_clients, "mcr-two", "mcr.microsoft.com/two", "mcr/two")
    assert info.value.error is not None and info.value.error.code == "CacheRuleLimitExceeded"


def test_unknown_credential_set_reference_is_refused(sdk_clients: SdkClients) -> None:
    with pytest.raises(HttpResponseError) as info:
        _create(
            sdk_clients,
            "mcr-x-rule",
            "mcr.microsoft.com/x",
            "mcr/x",
            f"{CONTOSO_ID}/credentialSets/nope1",
        )
    assert info.value.error is not None and info.value.error.code == "CredentialSetNotFound"


def test_patch_cache_rule_changes_only_the_credential_set(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    ghcr_id = f"{CONTOSO_ID}/credentialSets/ghcr-acme"
    updated = sdk_clients.acr.cache_rules.begin_update(
        RG_CACHE,
        "contosocache",
        "quay-prometheus",
        CacheRuleUpdateParameters(credential_set_resource_id=ghcr_id),
    ).result()
    assert updated.credential_set_resource_id == ghcr_id

    with pytest.raises(HttpResponseError) as info:
        sdk_clients.acr.cache_rules.begin_update(
            RG_CACHE, "contosocache", "quay-prometheus", {"properties": {"targetRepository": "x/y"}}
        ).result()
    assert info.value.status_code == 400
    assert info.value.error is not None and info.value.error.code == "InvalidPatchProperty"
    assert (
        sandbox.registry("contosocache").cache_rules["quay-prometheus"].target
        == "quay/prometheus/prometheus"
    )


def test_credential_set_create_assigns_a_system_identity(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    cred = CredentialSet(
        login_server="quay.io",
        identity=IdentityProperties(type="SystemAssigned"),
        auth_credentials=[
            AuthCredential(
                name="Credential1",
                username_secret_identifier="https://kv-cache-rbac.vault.azure.net/secrets/quay-username",
                password_secret_identifier="https://kv-cache-rbac.vault.azure.net/secrets/quay-password",
            )
        ],
    )
    created = sdk_clients.acr.credential_sets.begin_create(
        RG_CACHE, "fabrikamcache", "quay2", cred
    ).result()

    assert created.identity is not None and created.identity.principal_id
    assert created.identity.principal_id != sandbox.principal_of("contosocache", "quay-io")
    assert created.provisioning_state == "Succeeded"
    assert created.auth_credentials[0].credential_health.status == "Unhealthy"  # no grant yet


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"properties": {"authCredentials": []}}, "MissingLoginServer"),
        (
            {
                "properties": {
                    "loginServer": "quay.io",
                    "authCredentials": [{"name": "Credential2"}],
                }
            },
            "InvalidCredentialName",
        ),
        (
            {
                "properties": {
                    "loginServer": "quay.io",
                    "authCredentials": [
                        {
                            "name": "Credential1",
                            "usernameSecretIdentifier": "https://example.com/secrets/u",
                            "passwordSecretIdentifier": "https://kv-cache-rbac.vault.azure.net/secrets/p",
                        }
                    ],
                }
            },
            "InvalidSecretIdentifier",
        ),
    ],
)
def test_credential_set_put_validation(
    sdk_clients: SdkClients, body: dict[str, object], code: str
) -> None:
    with pytest.raises(HttpResponseError) as info:
        sdk_clients.acr.credential_sets.begin_create(
            RG_CACHE, "contosocache", "quay2", body
        ).result()
    assert info.value.error is not None and info.value.error.code == code


def test_credential_set_patch_rules(sdk_clients: SdkClients, sandbox: Sandbox) -> None:
    new_uri = "https://kv-cache-rbac.vault.azure.net/secrets/quay-password"
    params = CredentialSetUpdateParameters(
        auth_credentials=[
            AuthCredential(
                name="Credential1",
                username_secret_identifier="https://kv-cache-rbac.vault.azure.net/secrets/quay-username",
                password_secret_identifier=new_uri,
            )
        ]
    )
    updated = sdk_clients.acr.credential_sets.begin_update(
        RG_CACHE, "contosocache", "dockerhub", params
    ).result()
    assert updated.auth_credentials[0].password_secret_identifier == new_uri
    before = sandbox.principal_of("contosocache", "dockerhub")
    assert updated.identity is not None and updated.identity.principal_id == before  # identity kept

    with pytest.raises(HttpResponseError) as info:
        sdk_clients.acr.credential_sets.begin_update(
            RG_CACHE, "contosocache", "dockerhub", {"properties": {"loginServer": "quay.io"}}
        ).result()
    assert info.value.error is not None and info.value.error.code == "InvalidPatchProperty"


def test_deleting_a_credential_set_in_use_is_a_conflict(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    with pytest.raises(ResourceExistsError) as info:
        sdk_clients.acr.credential_sets.begin_delete(RG_CACHE, "contosocache", "dockerhub").result()
    assert info.value.error is not None and info.value.error.code == "CredentialSetInUse"
    assert "dockerhub" in sandbox.registry("contosocache").credential_sets


def test_unsupported_api_version_is_refused(sandbox: Sandbox) -> None:
    clients = make_clients(sandbox, api_version="2019-05-01")
    with pytest.raises(HttpResponseError) as info:
        clients.acr.registries.get(RG_CACHE, "contosocache")
    assert info.value.status_code == 400
    assert info.value.error is not None and info.value.error.code == "InvalidApiVersionParameter"
    clients.close()


def test_wildcard_rule_over_no_repository_is_created(sdk_clients: SdkClients) -> None:
    # the prefix team-b/ holds nothing (team-a/api and team-a/worker are beside it)
    rule = _create(sdk_clients, "team-b-all", "ghcr.io/team-b/*", "team-b/*", None)
    assert rule.provisioning_state == "Succeeded"


def test_registry_wide_wildcard_is_refused_while_any_repository_exists(
    sdk_clients: SdkClients, sandbox: Sandbox
) -> None:
    registry = sandbox.registry("fabrikamcache")
    with pytest.raises(HttpResponseError) as info:
        sdk_clients.acr.cache_rules.begin_create(
            RG_CACHE, "fabrikamcache", "everything", {"properties": {
                "sourceRepository": "mcr.microsoft.com/*", "targetRepository": "*"}},
        ).result()  # fmt: skip
    assert info.value.status_code == 409
    assert info.value.error is not None
    assert info.value.error.code == "TargetRepositoryPrefixMatchesExistingRegistries"
    registry.repositories.clear()  # the last repository deleted: now ACR accepts it
    rule = sdk_clients.acr.cache_rules.begin_create(
        RG_CACHE, "fabrikamcache", "everything", {"properties": {
            "sourceRepository": "mcr.microsoft.com/*", "targetRepository": "*"}},
    ).result()  # fmt: skip
    assert rule.provisioning_state == "Succeeded"


@pytest.mark.parametrize("enforced", [True, False])
def test_auth_only_upstream_without_credentials_is_an_option(
    sdk_clients: SdkClients, sandbox: Sandbox, enforced: bool
) -> None:
    # the overview says dhi.io allows authenticated pulls only; whether ACR refuses the rule
    # (rather than failing pulls) is not documented
    sandbox.options.enforce_auth_only_upstreams = enforced
    if enforced:
        with pytest.raises(HttpResponseError) as info:
            _create(sdk_clients, "dhi-python", "dhi.io/python", "dhi/python", None)
        assert info.value.error is not None and info.value.error.code == "CredentialSetRequired"
    else:
        rule = _create(sdk_clients, "dhi-python", "dhi.io/python", "dhi/python", None)
        assert rule.provisioning_state == "Succeeded"


@pytest.mark.parametrize("in_lro", [False, True])
def test_a_wildcard_over_repositories_is_refused_on_the_put_or_by_the_operation(
    sdk_clients: SdkClients, sandbox: Sandbox, in_lro: bool
) -> None:
    # whether ACR answers the PUT with 409 or fails the operation is not documented: either
    # way the SDK raises with ACR's code and no rule is left behind
    sandbox.options.prefix_refusal_in_lro = in_lro
    with pytest.raises(HttpResponseError) as info:
        _create(sdk_clients, "team-a-all", "ghcr.io/team-a/*", "team-a/*", None)
    assert info.value.error is not None
    assert info.value.error.code == "TargetRepositoryPrefixMatchesExistingRegistries"
    assert info.value.status_code == (200 if in_lro else 409)
    assert "team-a-all" not in sandbox.registry("contosocache").cache_rules
