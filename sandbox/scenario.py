"""Scenarios: YAML/JSON documents that seed the sandbox state (format in README.md).

Scenarios are loaded as written, without ACR's create-time checks, so tests can seed broken
states (a rule pointing at a missing credential set, an overlapping pair, ...).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from sandbox.clock import parse_time
from sandbox.graph import load_service_principals
from sandbox.roles import builtin_roles, role_from_json
from sandbox.scenario_auth import RegistryAuthError, load_registry_auth
from sandbox.state import (
    AuthCredential,
    CacheRule,
    CredentialSet,
    Registry,
    RoleAssignment,
    Secret,
    SecretVersion,
    State,
    Vault,
    new_secret_value,
)

_NS = uuid.UUID("5a7d6b1e-0c1a-4c6b-9f0e-5a2d0c0ffee0")
_RELATIVE = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScenarioError(ValueError):
    """The scenario document is malformed."""


@dataclass
class Scenario:
    """A loaded scenario: the raw document, where it came from, and its policy rows."""

    raw: dict[str, Any]
    source: str | None = None
    policies: list[dict[str, Any]] = field(default_factory=list)


def stable_guid(*parts: str) -> str:
    """A GUID derived from names, so seeded ids are the same on every load."""
    return str(uuid.uuid5(_NS, "/".join(p.lower() for p in parts)))


def read_document(source: str | Path | bytes | dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Parse a scenario from a path, YAML/JSON text or bytes, or a dict."""
    if isinstance(source, dict):
        return source, None
    origin: str | None = None
    if isinstance(source, Path) or (
        isinstance(source, str)
        and "\n" not in source
        and source.endswith((".yaml", ".yml", ".json"))
    ):
        origin = str(source)
        text = Path(source).read_text()
    else:
        text = source.decode() if isinstance(source, bytes) else source
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as err:
        raise ScenarioError(f"scenario is not valid YAML/JSON: {err}") from err
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a mapping at the top level")
    return data, origin


def when(value: Any, now: datetime) -> datetime | None:
    """A time: ISO 8601, Unix seconds, or relative to now like `+30d`, `-2h`, `now`."""
    if value is None:
        return None
    if isinstance(value, str):
        if value == "now":
            return now
        if m := _RELATIVE.match(value.strip()):
            delta = timedelta(**{_UNITS[m[3]]: float(m[2])})
            return now + delta if m[1] == "+" else now - delta
    if isinstance(value, datetime | str | int | float):
        return parse_time(value)
    raise ScenarioError(f"not a time: {value!r}")


def build_state(doc: dict[str, Any], now: datetime) -> State:
    """Turn a scenario document into a fresh State (built-in roles included)."""
    state = State()
    state.tenant_id = str(doc.get("tenant", state.tenant_id))
    state.subscription = str(doc.get("subscription", state.subscription))
    state.role_definitions = builtin_roles()
    state.management_groups = {
        str(k): [str(s) for s in v] for k, v in (doc.get("managementGroups") or {}).items()
    }
    state.policies = list(doc.get("policies") or [])
    for item in doc.get("roleDefinitions") or []:
        role = role_from_json(_role_doc(item))
        state.role_definitions[role.guid] = role
    # Registries first: vault access policies may name a credential set's identity.
    for item in doc.get("registries") or []:
        _load_registry(state, item, now)
    for item in doc.get("vaults") or []:
        _load_vault(state, item, now)
    for item in doc.get("roleAssignments") or []:
        assignment = _assignment(state, item, now)
        state.role_assignments[assignment.guid] = assignment
    load_service_principals(state, doc.get("servicePrincipals") or [])
    return state


def _role_doc(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    out.setdefault("name", item.get("id") or stable_guid("role", str(item.get("roleName"))))
    return out


def _load_vault(state: State, item: dict[str, Any], now: datetime) -> None:
    vault = Vault(
        subscription=str(item.get("subscription", state.subscription)),
        resource_group=str(item["resourceGroup"]),
        name=str(item["name"]),
        location=str(item.get("location", "westeurope")),
        tenant_id=str(item.get("tenant", state.tenant_id)),
        rbac=bool(item.get("rbac", item.get("enableRbacAuthorization", True))),
        tags=dict(item.get("tags") or {}),
        extra_properties=dict(item.get("properties") or {}),
    )
    for policy in item.get("accessPolicies") or []:
        entry = dict(policy)
        entry["objectId"] = principal(state, policy.get("objectId"), item)
        entry.setdefault("tenantId", vault.tenant_id)
        vault.access_policies.append(entry)
    for raw in item.get("secrets") or []:
        secret = Secret(str(raw["name"]))
        versions = raw.get("versions") or [{}]
        for index, spec in enumerate(versions):
            created = when(spec.get("created"), now) or now - timedelta(hours=len(versions) - index)
            version = SecretVersion(
                version=str(
                    spec.get("version")
                    or uuid.UUID(stable_guid(vault.name, secret.name, str(index))).hex
                ),
                value=str(spec.get("value") or new_secret_value()),
                created=created,
                updated=created,
                enabled=bool(spec.get("enabled", True)),
                not_before=when(spec.get("nbf"), now),
                expires=when(spec.get("exp"), now),
                content_type=spec.get("contentType"),
                tags=dict(spec.get("tags") or {}),
            )
            secret.versions.append(version)
        vault.secrets[secret.name.lower()] = secret
    state.add_vault(vault)


def _load_registry(state: State, item: dict[str, Any], now: datetime) -> None:
    registry = Registry(
        subscription=str(item.get("subscription", state.subscription)),
        resource_group=str(item["resourceGroup"]),
        name=str(item["name"]),
        location=str(item.get("location", "westeurope")),
        sku=str(item.get("sku", "Premium")),
        created=now,
        tags=dict(item.get("tags") or {}),
        repositories={str(r) for r in item.get("repositories") or []},
    )
    try:
        load_registry_auth(registry, item, now, when)
    except (RegistryAuthError, KeyError) as err:
        raise ScenarioError(f"registry {registry.name}: {err}") from err
    for raw in item.get("credentialSets") or []:
        identity = str(raw.get("identity", "SystemAssigned"))
        pid = raw.get("principalId") or stable_guid(registry.id, str(raw["name"]))
        registry.credential_sets[str(raw["name"]).lower()] = CredentialSet(
            name=str(raw["name"]),
            login_server=str(raw.get("loginServer", "docker.io")),
            credentials=[AuthCredential("Credential1", str(raw["username"]), str(raw["password"]))],
            identity_type=identity,
            principal_id=None if identity == "None" else str(pid),
            tenant_id=None if identity == "None" else state.tenant_id,
            created=now,
        )
    for raw in item.get("diagnosticSettings") or []:
        name = str(raw.get("name", "cachekeeper"))
        registry.diagnostic_settings[name.lower()] = (name, diagnostic_properties(raw))
    for raw in item.get("cacheRules") or []:
        ref = raw.get("credentialSet")
        cred_id = None
        if ref:
            cred_id = str(ref) if str(ref).startswith("/") else registry.credential_set_id(str(ref))
        registry.cache_rules[str(raw["name"]).lower()] = CacheRule(
            str(raw["name"]), str(raw["source"]), str(raw["target"]), cred_id, now
        )
    state.add_registry(registry)


def diagnostic_properties(raw: dict[str, Any]) -> dict[str, Any]:
    """A diagnostic setting's ARM `properties` from a scenario entry: `properties` as ARM has
    them, or the shorthand `workspaceId` + `categories` (default: the registry's repository
    events, resource-specific)."""
    if isinstance(raw.get("properties"), dict):
        return dict(raw["properties"])
    categories = raw.get("categories", ["ContainerRegistryRepositoryEvents"])
    props: dict[str, Any] = {
        "logs": [{"category": str(c), "enabled": True} for c in categories],
        "metrics": [],
        "logAnalyticsDestinationType": raw.get("logAnalyticsDestinationType", "Dedicated"),
    }
    if raw.get("workspaceId"):
        props["workspaceId"] = str(raw["workspaceId"])
    if raw.get("storageAccountId"):
        props["storageAccountId"] = str(raw["storageAccountId"])
    return props


def principal(state: State, ref: Any, context: dict[str, Any] | None = None) -> str:
    """A principal id: a GUID, or `{registry, credentialSet}` naming a credential set's identity."""
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict) and "credentialSet" in ref and "registry" in ref:
        reg = next(
            (
                r
                for r in state.registries.values()
                if r.name.lower() == str(ref["registry"]).lower()
            ),
            None,
        )
        if reg is not None:
            cred = reg.credential_sets.get(str(ref["credentialSet"]).lower())
            if cred is not None and cred.principal_id:
                return cred.principal_id
        raise ScenarioError(f"unknown credential set {ref}")
    raise ScenarioError(f"not a principal: {ref!r} (in {context})")


def scope(state: State, ref: Any) -> str:
    """A scope: an ARM id string, or `{vault, secret?}` shorthand."""
    if isinstance(ref, str):
        return ref
    if isinstance(ref, dict) and "vault" in ref:
        vault = state.vault(str(ref["vault"]))
        if vault is None:
            raise ScenarioError(f"unknown vault {ref['vault']}")
        return vault.secret_scope(str(ref["secret"])) if ref.get("secret") else vault.id
    raise ScenarioError(f"not a scope: {ref!r}")


def role_guid(state: State, ref: str) -> str:
    """A role by GUID, role id, or (case-insensitive) role name."""
    tail = ref.rsplit("/", 1)[-1].lower()
    if tail in state.role_definitions:
        return tail
    for role in state.role_definitions.values():
        if role.role_name.lower() == ref.lower():
            return role.guid
    raise ScenarioError(f"unknown role {ref!r}")


def _assignment(state: State, item: dict[str, Any], now: datetime) -> RoleAssignment:
    target = scope(state, item["scope"])
    who = principal(state, item["principal"], item)
    role = role_guid(state, str(item["role"]))
    guid = str(item.get("id") or stable_guid("assignment", target, role, who))
    return RoleAssignment(
        guid=guid,
        scope=target,
        role_definition_guid=role,
        principal_id=who,
        principal_type=str(item.get("principalType", "ServicePrincipal")),
        created=now,
        condition=item.get("condition"),
        condition_version=item.get("conditionVersion"),
    )
