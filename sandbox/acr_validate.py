"""ACR's rules for credential sets and cache rules, enforced on PUT and PATCH.

Error codes are sandbox-defined unless noted (ACR's are not documented); see README.md and
docs/fidelity.md for the real ones and where each was seen.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import ServiceError, bad_request, conflict
from sandbox.health import parse_secret_uri
from sandbox.state import AuthCredential, CacheRule, Registry

_NAME = re.compile(r"^[a-zA-Z0-9-]{5,50}$")
_REPO = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_CREDSET_ID = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.ContainerRegistry"
    r"/registries/([^/]+)/credentialSets/([^/]+)$",
    re.IGNORECASE,
)
DOCKER_HUB = "docker.io"
PREFIX_REFUSAL = "TargetRepositoryPrefixMatchesExistingRegistries"
# Upstreams the artifact-cache overview lists as "authenticated pulls only" (besides Docker Hub,
# whose refusal code is known); whether ACR itself refuses them without credentials is not
# documented, so it is an option (SandboxOptions.enforce_auth_only_upstreams).
AUTH_ONLY_HOSTS = ("dhi.io", "registry.redhat.io")
AUTH_ONLY_SUFFIXES = (".pkg.dev",)


def check_name(kind: str, name: str) -> None:
    """5-50 characters of `^[a-zA-Z0-9-]*$` (Registry/CacheRule.tsp, CredentialSet.tsp)."""
    if not _NAME.match(name):
        raise bad_request(
            "InvalidResourceName",
            f"The {kind} name '{name}' is invalid: it must be 5-50 characters of "
            "letters, digits and '-'.",
        )


def _properties(body: dict[str, Any]) -> dict[str, Any]:
    props = body.get("properties")
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "The request body must contain 'properties'.")
    return props


def parse_auth_credentials(raw: Any) -> list[AuthCredential]:
    """Validate `authCredentials`: one or more entries named Credential1 with secret URIs."""
    if not isinstance(raw, list) or not raw:
        raise bad_request("InvalidAuthCredentials", "'authCredentials' must be a non-empty list.")
    out: list[AuthCredential] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("InvalidAuthCredentials", "Each authCredentials entry is an object.")
        if item.get("name") != "Credential1":
            raise bad_request(
                "InvalidCredentialName",
                f"Credential name '{item.get('name')}' is invalid; the only name is 'Credential1'.",
            )
        if len(out) >= 1:
            raise bad_request("InvalidAuthCredentials", "Only one credential is supported.")
        uris = []
        for field in ("usernameSecretIdentifier", "passwordSecretIdentifier"):
            value = item.get(field)
            if not isinstance(value, str) or parse_secret_uri(value) is None:
                raise bad_request(
                    "InvalidSecretIdentifier",
                    f"'{field}' must be a Key Vault secret URI "
                    "(https://{vault}.vault.azure.net/secrets/{name}[/{version}]).",
                )
            uris.append(value)
        out.append(AuthCredential("Credential1", uris[0], uris[1]))
    return out


def parse_credential_set_put(body: dict[str, Any]) -> tuple[str, list[AuthCredential], str]:
    """Validate a credential-set PUT body: (loginServer, credentials, identity type)."""
    props = _properties(body)
    login_server = props.get("loginServer")
    if not isinstance(login_server, str) or not login_server:
        raise bad_request("MissingLoginServer", "'properties.loginServer' is required.")
    credentials = parse_auth_credentials(props.get("authCredentials"))
    return login_server, credentials, identity_type(body.get("identity"))


def identity_type(identity: Any) -> str:
    """The requested identity type; the sandbox supports SystemAssigned (default) and None."""
    if identity is None:
        return "SystemAssigned"
    if not isinstance(identity, dict):
        raise bad_request("InvalidIdentity", "'identity' must be an object.")
    kind = identity.get("type", "SystemAssigned")
    if kind not in ("SystemAssigned", "None"):
        raise bad_request(
            "UnsupportedIdentityType",
            f"Identity type '{kind}' is not supported by the sandbox (SystemAssigned or None).",
        )
    return str(kind)


def check_patch_keys(body: dict[str, Any], allowed_top: set[str], allowed_props: set[str]) -> None:
    """PATCH may only carry the updatable properties; anything else is a 400."""
    extra_top = set(body) - allowed_top - {"properties"}
    props = body.get("properties", {})
    if not isinstance(props, dict):
        raise bad_request("InvalidRequestContent", "'properties' must be an object.")
    extra = sorted(extra_top | {f"properties.{k}" for k in set(props) - allowed_props})
    if extra:
        allowed = sorted(allowed_top | {f"properties.{k}" for k in allowed_props})
        raise bad_request(
            "InvalidPatchProperty",
            f"These properties cannot be updated: {', '.join(extra)}. Updatable: {allowed}.",
        )


def is_wildcard(repository: str) -> bool:
    """A wildcard repository path is `*` or ends with `/*`."""
    return repository == "*" or repository.endswith("/*")


def _prefix(target: str) -> str:
    return "" if target == "*" else target[:-1].lower()  # "library/*" -> "library/"


def check_credential_set_ref(registry: Registry, ref: Any) -> str | None:
    """A referenced credential set must be in this registry and exist."""
    if ref is None:
        return None
    match = _CREDSET_ID.match(str(ref))
    if match is None or registry.id.lower() != str(ref).rsplit("/credentialSets/", 1)[0].lower():
        raise bad_request(
            "InvalidCredentialSetResourceId",
            f"'{ref}' is not the id of a credential set in registry '{registry.name}'.",
        )
    if match.group(4).lower() not in registry.credential_sets:
        raise bad_request("CredentialSetNotFound", f"Credential set '{ref}' does not exist.")
    return str(ref)


def check_credentials_needed(source: str, *, enforce_auth_only: bool) -> None:
    """A rule without a credential set for an upstream that only allows authenticated pulls."""
    host = source.split("/", 1)[0].lower()
    if host in (DOCKER_HUB, "registry-1.docker.io", "index.docker.io"):
        # real code and text: hashicorp/terraform-provider-azurerm#27983 test log
        raise bad_request(
            "EnforceDockerAuthentication",
            "Cannot create cache rule pointing to Docker Hub without credentials",
        )
    if enforce_auth_only and (host in AUTH_ONLY_HOSTS or host.endswith(AUTH_ONLY_SUFFIXES)):
        raise bad_request(
            "CredentialSetRequired",
            f"'{host}' supports authenticated pulls only: 'credentialSetResourceId' is required.",
        )


def parse_cache_rule_put(
    registry: Registry,
    name: str,
    body: dict[str, Any],
    max_rules: int,
    *,
    enforce_auth_only: bool = True,
) -> tuple[str, str, str | None]:
    """Validate a cache-rule PUT against the registry: (source, target, credentialSetResourceId)."""
    props = _properties(body)
    source, target = props.get("sourceRepository"), props.get("targetRepository")
    if not isinstance(source, str) or "/" not in source:
        raise bad_request(
            "InvalidSourceRepository",
            "'sourceRepository' is required and must start with the upstream login server.",
        )
    if not isinstance(target, str) or not target:
        raise bad_request("InvalidTargetRepository", "'targetRepository' is required.")
    if is_wildcard(source) != is_wildcard(target):
        raise bad_request(
            "InvalidWildcardRule",
            "A wildcard ('/*') must appear in both sourceRepository and targetRepository.",
        )
    bare = target[:-2] if target.endswith("/*") else target
    if target != "*" and not _REPO.match(bare):
        raise bad_request("InvalidTargetRepository", f"'{target}' is not a valid repository name.")
    cred_ref = check_credential_set_ref(registry, props.get("credentialSetResourceId"))
    if cred_ref is None:
        check_credentials_needed(source, enforce_auth_only=enforce_auth_only)
    existing = registry.cache_rules.get(name.lower())
    if existing is not None:
        if existing.source != source or existing.target != target:
            raise conflict(
                "CacheRulePropertyImmutable",
                "sourceRepository and targetRepository cannot change; delete and re-create.",
            )
        return source, target, cred_ref
    if len(registry.cache_rules) >= max_rules:
        raise conflict(
            "CacheRuleLimitExceeded",
            f"The registry already has the maximum of {max_rules} cache rules.",
        )
    check_overlap(registry, name, target)
    return source, target, cred_ref


def check_overlap(registry: Registry, name: str, target: str) -> None:
    """Wildcards may not overlap wildcards; statics may not share a target; target must be new."""
    for rule in registry.cache_rules.values():
        if rule.name.lower() == name.lower():
            continue
        _check_pair(rule, target)
    repositories = {r.lower() for r in registry.repositories}
    if not is_wildcard(target) and target.lower() in repositories:
        # real code and text: Azure/ARO-HCP#2639
        raise conflict(
            "TargetRepositoryAlreadyPresentInRegistry",
            f"Conflict: Target repository '{target}' is already present in registry. Cache rules "
            "cannot be created for existing repositories in registry. For more information, "
            "please visit https://aka.ms/acr/cache",
        )
    prefix = _prefix(target)
    if is_wildcard(target) and any(r.startswith(prefix) for r in repositories):
        # real code and text: Azure/ARO-HCP#5176; a `*` rule is blocked by any repository
        # (maintainer in Azure/acr#789)
        raise conflict(
            PREFIX_REFUSAL,
            "There are one or more target repositories in the registry which match the target "
            f"repository prefix '{target}'.",
        )


def _check_pair(rule: CacheRule, target: str) -> None:
    if is_wildcard(target) and rule.is_wildcard:
        mine, theirs = _prefix(target), _prefix(rule.target)
        if mine.startswith(theirs) or theirs.startswith(mine):
            raise _overlap(rule, target)
    elif not is_wildcard(target) and not rule.is_wildcard and rule.target.lower() == target.lower():
        raise _overlap(rule, target)


def _overlap(rule: CacheRule, target: str) -> ServiceError:
    return conflict(
        "CacheRuleOverlap",
        f"Target '{target}' overlaps cache rule '{rule.name}' (target '{rule.target}').",
    )
