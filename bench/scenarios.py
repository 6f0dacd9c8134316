"""Sandbox scenarios generated for the benchmarks (format: sandbox/README.md).

A *fleet*: `registries` registries, each with `sets` credential sets (one per upstream
credential, shared by every registry, as a platform team does) and `rules` static cache rules
spread over them. Upstream credential k lives in an RBAC vault, except every fifth, which lives
in an access-policy vault. Even k are pinned to a secret version, odd k are versionless. Even k
are granted at secret scope, odd k vault-wide, so every credential set is Healthy at the start.
One policy row per upstream prescribes exactly the rules that exist (no drift).
"""

from __future__ import annotations

import hashlib
from typing import Any

RBAC_VAULT = "kv-bench-rbac"
POLICY_VAULT = "kv-bench-policy"
VAULTS = (RBAC_VAULT, POLICY_VAULT)
SECRETS_USER = "Key Vault Secrets User"
HOSTS = (("docker.io", "dockerhub"), ("ghcr.io", "ghcr"), ("quay.io", "quay"))


def registry_names(count: int) -> list[str]:
    """The names of the fleet's registries."""
    return [f"benchreg{i:02d}" for i in range(count)]


def set_name(k: int) -> str:
    """The credential set of upstream credential k (the same name in every registry)."""
    return f"upstream{k:02d}"


def secret_names(k: int) -> tuple[str, str]:
    """The username and password secrets of upstream credential k."""
    return f"up{k:02d}-username", f"up{k:02d}-password"


def vault_of(k: int) -> str:
    """The vault holding upstream credential k's secrets."""
    return POLICY_VAULT if k % 5 == 4 else RBAC_VAULT


def current_version(secret: str) -> str:
    """The stable version id (32 hex) of a secret's current version."""
    return hashlib.sha256(f"{secret}/current".encode()).hexdigest()[:32]


def _secret_uri(k: int, secret: str, *, pinned: bool) -> str:
    uri = f"https://{vault_of(k)}.vault.azure.net/secrets/{secret}"
    return f"{uri}/{current_version(secret)}" if pinned else uri


def fleet(*, registries: int, sets: int, rules: int) -> dict[str, Any]:
    """A scenario document: registries x rules x credential sets, all healthy."""
    names = registry_names(registries)
    docs: list[dict[str, Any]] = []
    for name in names:
        credential_sets = []
        for k in range(sets):
            username, password = secret_names(k)
            credential_sets.append(
                {
                    "name": set_name(k),
                    "loginServer": HOSTS[k % len(HOSTS)][0],
                    "username": _secret_uri(k, username, pinned=k % 2 == 0),
                    "password": _secret_uri(k, password, pinned=k % 2 == 0),
                }
            )
        cache_rules = []
        for j in range(rules):
            k = j % sets
            host, prefix = HOSTS[k % len(HOSTS)]
            cache_rules.append(
                {
                    "name": f"rule{j:04d}",
                    "source": f"{host}/team{k:02d}/img{j:04d}",
                    "target": f"{prefix}/team{k:02d}/img{j:04d}",
                    "credentialSet": set_name(k),
                }
            )
        docs.append(
            {
                "name": name,
                "resourceGroup": "rg-cache",
                "credentialSets": credential_sets,
                "cacheRules": cache_rules,
            }
        )
    vaults: dict[str, dict[str, Any]] = {
        RBAC_VAULT: {
            "name": RBAC_VAULT,
            "resourceGroup": "rg-secrets",
            "rbac": True,
            "secrets": [],
        },
        POLICY_VAULT: {
            "name": POLICY_VAULT,
            "resourceGroup": "rg-secrets",
            "rbac": False,
            "secrets": [],
            "accessPolicies": [],
        },
    }
    assignments: list[dict[str, Any]] = []
    for k in range(sets):
        vault = vaults[vault_of(k)]
        for secret in secret_names(k):
            vault["secrets"].append(
                {
                    "name": secret,
                    "versions": [
                        {"created": "-120d", "exp": "-20d"},  # the previous one, expired
                        {"version": current_version(secret), "created": "-30d", "exp": "+300d"},
                    ],
                }
            )
        for name in names:
            principal = {"registry": name, "credentialSet": set_name(k)}
            if vault_of(k) == POLICY_VAULT:
                vault["accessPolicies"].append(
                    {"objectId": principal, "permissions": {"secrets": ["get", "list"]}}
                )
            elif k % 2 == 0:
                assignments.extend(
                    {"role": SECRETS_USER, "scope": {"vault": RBAC_VAULT, "secret": s},
                     "principal": principal}
                    for s in secret_names(k)
                )  # fmt: skip
            else:
                assignments.append(
                    {"role": SECRETS_USER, "scope": {"vault": RBAC_VAULT}, "principal": principal}
                )
    policies = []
    for k in range(sets):
        host, prefix = HOSTS[k % len(HOSTS)]
        policies.append(
            {
                "id": f"team{k:02d}",
                "upstream": f"{host}/team{k:02d}/*",
                "action": "allow",
                "targetTemplate": f"{prefix}/team{k:02d}/{{path}}",
                "ruleKind": "static",
                "credentialSet": set_name(k),
                "priority": 10,
            }
        )
    return {
        "tenant": "00000000-0000-0000-0000-0000000000aa",
        "subscription": "00000000-0000-0000-0000-000000000001",
        "registries": docs,
        "vaults": list(vaults.values()),
        "roleAssignments": assignments,
        "policies": policies,
    }
