"""Invariants read from the sandbox's request log and state, and from the journal."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox import Sandbox
from shared.domain.models import KEY_VAULT_SECRETS_USER
from shared.domain.plans import ActionKind, Outcome

__all__ = [
    "Refs",
    "current_refs",
    "downgrades",
    "grant_violations",
    "is_terminal",
    "normalized_state",
    "terminal_counts",
]

_SET_PATH = re.compile(
    r"/registries/(?P<registry>[^/]+)/credentialSets/(?P<name>[^/?]+)$", re.IGNORECASE
)
_SECRET_URI = re.compile(
    r"^https://(?P<vault>[^.]+)\.vault\.azure\.net/secrets/(?P<name>[^/]+)(?:/(?P<version>[0-9a-f]{32}))?/?$",
    re.IGNORECASE,
)
_ASSIGNMENT_PATH = re.compile(
    r"^(?P<scope>/.+)/providers/Microsoft\.Authorization/roleAssignments/[^/]+$", re.IGNORECASE
)

Refs = dict[tuple[str, str], tuple[str, str]]  # (registry, set) -> (username uri, password uri)


def current_refs(sandbox: Sandbox) -> Refs:
    """Every credential set's (username, password) secret URIs, keyed by (registry, set)."""
    found: Refs = {}
    with sandbox._lock:
        for registry in sandbox.state.registries.values():
            for item in registry.credential_sets.values():
                credential = item.credentials[0]
                key = (registry.name.lower(), item.name.lower())
                found[key] = (credential.username_uri, credential.password_uri)
    return found


def _order(sandbox: Sandbox, uri: str) -> tuple[str, str, Any] | None:
    """(vault/name, 'versioned'|'latest', creation order) of a secret URI."""
    match = _SECRET_URI.match(uri)
    if match is None:
        return None
    secret = f"{match['vault'].lower()}/{match['name'].lower()}"
    if match["version"] is None:
        return secret, "latest", None
    try:
        version = sandbox.secret_version(match["vault"], match["name"], match["version"])
    except KeyError:
        return secret, "versioned", None
    return secret, "versioned", (version.created, version.version)


def downgrades(sandbox: Sandbox, initial: Refs) -> list[str]:
    """Every successful credential-set PATCH that moved a reference backwards: to an older
    version, to another secret, or between versioned and versionless. Empty is good."""
    refs = {key: list(value) for key, value in initial.items()}
    problems: list[str] = []
    for record in sandbox.log.all():
        match = _SET_PATH.search(record.path)
        if record.method != "PATCH" or match is None or record.fault or record.status >= 300:
            continue
        key = (match["registry"].lower(), match["name"].lower())
        body = json.loads(record.body or "{}")
        (credential,) = body["properties"]["authCredentials"]
        after = [credential["usernameSecretIdentifier"], credential["passwordSecretIdentifier"]]
        before = refs.get(key)
        refs[key] = after
        if before is None:
            continue
        for role, old, new in zip(("username", "password"), before, after, strict=True):
            was, now = _order(sandbox, old), _order(sandbox, new)
            if old == new:
                continue
            if was is None or now is None or was[:2] != now[:2]:
                problems.append(f"#{record.seq} {key} {role}: {old} -> {new} (changed kind)")
            elif was[2] is not None and (now[2] is None or now[2] < was[2]):
                problems.append(f"#{record.seq} {key} {role}: {old} -> {new} (older version)")
    return problems


def grant_violations(sandbox: Sandbox) -> list[str]:
    """Every role-assignment PUT that is not Key Vault Secrets User, at a single secret's scope,
    for the principal of a credential set whose secrets live there. Empty is good."""
    principals: dict[str, set[str]] = {}  # principal -> "vault/secret" it references
    with sandbox._lock:
        for registry in sandbox.state.registries.values():
            for item in registry.credential_sets.values():
                if item.principal_id is None:
                    continue
                for credential in item.credentials:
                    for uri in (credential.username_uri, credential.password_uri):
                        match = _SECRET_URI.match(uri)
                        if match is not None:
                            principals.setdefault(item.principal_id.lower(), set()).add(
                                f"{match['vault'].lower()}/{match['name'].lower()}"
                            )
    problems: list[str] = []
    for record in sandbox.log.all():
        if record.method != "PUT" or "/roleassignments/" not in record.path.lower():
            continue
        match = _ASSIGNMENT_PATH.match(record.path)
        body = json.loads(record.body or "{}").get("properties", {})
        role = str(body.get("roleDefinitionId", "")).rsplit("/", 1)[-1].lower()
        principal = str(body.get("principalId", "")).lower()
        scope = match["scope"].lower() if match else ""
        secret = re.search(r"/vaults/([^/]+)/secrets/([^/]+)$", scope)
        where = f"{secret[1]}/{secret[2]}" if secret else None
        if role != KEY_VAULT_SECRETS_USER:
            problems.append(f"#{record.seq}: role {role} is not Key Vault Secrets User")
        if where is None:
            problems.append(f"#{record.seq}: scope {scope} is not a single secret")
        elif where not in principals.get(principal, set()):
            problems.append(f"#{record.seq}: {principal} is no credential set reading {where}")
    return problems


def is_terminal(outcome: Outcome) -> bool:
    """The outcome that closes a signal: the per-signal summary (`action is None`), or the one
    outcome of a reaction whose plan is a single cache-rule creation."""
    return outcome.action is None or outcome.action is ActionKind.CREATE_CACHE_RULE


def terminal_counts(outcomes: Iterable[Outcome]) -> Counter[str]:
    """How many terminal outcomes each signal id has."""
    return Counter(o.signal_id for o in outcomes if is_terminal(o))


def normalized_state(sandbox: Sandbox) -> dict[str, Any]:
    """The sandbox's state with run-specific ids replaced by stable names, for comparing two runs:
    secret versions by creation index, role assignments by (scope, role, principal). Provisioning
    states are left out (the sandbox settles an LRO only when someone polls it)."""
    with sandbox._lock:
        state = sandbox.state
        index: dict[str, int] = {}
        vaults: dict[str, Any] = {}
        for vault in state.vaults.values():
            secrets: dict[str, Any] = {}
            for secret in vault.secrets.values():
                for position, version in enumerate(secret.versions):
                    index[version.version.lower()] = position
                secrets[secret.name] = [
                    (v.enabled, str(v.not_before), str(v.expires)) for v in secret.versions
                ]
            vaults[vault.name] = {
                "secrets": secrets,
                "accessPolicies": sorted(
                    json.dumps(p, sort_keys=True) for p in vault.access_policies
                ),
            }

        def stable(uri: str) -> str:
            match = _SECRET_URI.match(uri)
            if match is None or match["version"] is None:
                return uri.lower()
            return f"{match['vault']}/{match['name']}#{index.get(match['version'].lower())}".lower()

        registries: dict[str, Any] = {}
        for registry in state.registries.values():
            registries[registry.name] = {
                "repositories": sorted(registry.repositories),
                "credentialSets": {
                    c.name: [
                        (stable(x.username_uri), stable(x.password_uri)) for x in c.credentials
                    ]
                    for c in registry.credential_sets.values()
                },
                "cacheRules": sorted(
                    (r.name, r.source, r.target, str(r.credential_set_id).lower())
                    for r in registry.cache_rules.values()
                ),
            }
        grants = sorted(
            (a.scope.lower(), a.role_definition_guid.lower(), a.principal_id.lower())
            for a in state.role_assignments.values()
        )
    return {"registries": registries, "vaults": vaults, "roleAssignments": grants}


def changed_keys(left: Mapping[str, Any], right: Mapping[str, Any]) -> list[str]:
    """Top-level paths where two normalized states differ (for a readable failure)."""
    out: list[str] = []
    for key in sorted(set(left) | set(right)):
        a, b = left.get(key), right.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(f"{key}.{sub}" for sub in changed_keys(a, b))
        elif a != b:
            out.append(f"{key}: {a!r} != {b!r}")
    return out
