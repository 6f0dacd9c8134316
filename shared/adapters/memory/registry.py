"""An in-memory ACR: credential sets and cache rules with ACR's rules (names, overlaps, limits,
existing repositories)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

from shared.domain.cache_rules import MAX_CACHE_RULES, RuleSpec, check_new_rule
from shared.domain.ids import ResourceId
from shared.domain.models import CacheRule, CredentialHealth, CredentialSet
from shared.domain.names import validate_rule_name
from shared.domain.pullers import RegistryAuth, RegistryToken, ScopeMap
from shared.domain.repositories import TargetPath
from shared.domain.secrets import SecretRef
from shared.errors import ConflictError, NotFoundError, PolicyViolationError

__all__ = ["MemoryRegistry"]


class MemoryRegistry:
    """Implements the Registry port in memory; counts writes so tests can assert "no change"."""

    def __init__(self, registries: list[ResourceId], *, rule_limit: int = MAX_CACHE_RULES) -> None:
        self._lock = threading.Lock()
        self._rule_limit = rule_limit
        self.credential_sets: dict[ResourceId, CredentialSet] = {}
        self.cache_rules: dict[ResourceId, CacheRule] = {}
        self.repositories: dict[ResourceId, set[TargetPath]] = {r: set() for r in registries}
        self.writes: list[tuple[str, str]] = []
        self.auth: dict[ResourceId, RegistryAuth] = {}
        self.tokens: dict[ResourceId, RegistryToken] = {}
        self.scope_maps: dict[ResourceId, ScopeMap] = {}

    # ---- helpers for tests ----------------------------------------------------------------
    def _registry(self, registry: ResourceId) -> ResourceId:
        for known in self.repositories:
            if known == registry:
                return known
        raise NotFoundError(f"registry {registry} does not exist")

    def add_credential_set(self, credential_set: CredentialSet) -> CredentialSet:
        """Seed a credential set as it already exists in Azure (not counted as a write)."""
        self._registry(credential_set.registry)
        self.credential_sets[credential_set.id] = credential_set
        return credential_set

    def set_health(self, credential_set: ResourceId, health: CredentialHealth) -> None:
        """What ACR would report next time the credential set is read."""
        current = self.get_credential_set(credential_set)
        self.credential_sets[credential_set] = replace(current, health=health)

    def set_auth(
        self, registry: ResourceId, *, admin_user_enabled: bool = False, abac: bool = False
    ) -> None:
        """Seed the registry's admin-user flag and role-assignment mode (defaults: off, RBAC)."""
        self.auth[self._registry(registry)] = RegistryAuth(registry, admin_user_enabled, abac)

    def add_token(self, token: RegistryToken, scope_map: ScopeMap | None = None) -> None:
        """Seed a token (and its scope map) as it exists in Azure."""
        self.tokens[token.id] = token
        if scope_map is not None:
            self.scope_maps[scope_map.id] = scope_map

    # ---- registry authentication ------------------------------------------------------------
    def registry_auth(self, registry: ResourceId) -> RegistryAuth:
        known = self._registry(registry)
        return self.auth.get(known, RegistryAuth(known, False, False))

    def list_tokens(self, registry: ResourceId) -> list[RegistryToken]:
        self._registry(registry)
        return sorted(
            (t for t in self.tokens.values() if t.id.parent == registry), key=lambda t: t.name
        )

    def get_scope_map(self, scope_map: ResourceId) -> ScopeMap:
        try:
            return self.scope_maps[scope_map]
        except KeyError:
            raise NotFoundError(f"scope map {scope_map} does not exist") from None

    # ---- credential sets ------------------------------------------------------------------
    def list_credential_sets(self, registry: ResourceId) -> list[CredentialSet]:
        self._registry(registry)
        return sorted(
            (c for c in self.credential_sets.values() if c.registry == registry),
            key=lambda c: c.name,
        )

    def get_credential_set(self, credential_set: ResourceId) -> CredentialSet:
        try:
            return self.credential_sets[credential_set]
        except KeyError:
            raise NotFoundError(f"credential set {credential_set} does not exist") from None

    def create_credential_set(
        self,
        credential_set: ResourceId,
        *,
        login_server: str,
        username: SecretRef,
        password: SecretRef,
    ) -> CredentialSet:
        validate_rule_name(credential_set.name, kind="credential set")
        with self._lock:
            self._registry(credential_set.parent or credential_set)
            created = CredentialSet(
                credential_set, login_server, username, password, principal_id=str(uuid.uuid4()),
                provisioning_state="Succeeded",
            )  # fmt: skip
            self.credential_sets[credential_set] = created
            self.writes.append(("create-credential-set", str(credential_set)))
            return created

    def update_credential_set(
        self,
        credential_set: ResourceId,
        *,
        username: SecretRef,
        password: SecretRef,
        fence: Callable[[], None] | None = None,
    ) -> CredentialSet:
        if fence is not None:
            fence()  # what the Azure adapter checks before sending the PATCH
        with self._lock:
            current = self.get_credential_set(credential_set)
            updated = replace(current, username=username, password=password)
            self.credential_sets[credential_set] = updated
            self.writes.append(("update-credential-set", str(credential_set)))
            return updated

    def delete_credential_set(self, credential_set: ResourceId) -> None:
        with self._lock:
            self.get_credential_set(credential_set)
            users = [
                r.name for r in self.cache_rules.values() if r.credential_set_id == credential_set
            ]
            if users:
                raise ConflictError(
                    f"credential set {credential_set.name} is used by {', '.join(users)}"
                )
            del self.credential_sets[credential_set]
            self.writes.append(("delete-credential-set", str(credential_set)))

    # ---- cache rules ----------------------------------------------------------------------
    def list_cache_rules(self, registry: ResourceId) -> list[CacheRule]:
        self._registry(registry)
        return sorted(
            (r for r in self.cache_rules.values() if r.registry == registry), key=lambda r: r.name
        )

    def get_cache_rule(self, rule: ResourceId) -> CacheRule:
        try:
            return self.cache_rules[rule]
        except KeyError:
            raise NotFoundError(f"cache rule {rule} does not exist") from None

    def create_cache_rule(self, registry: ResourceId, spec: RuleSpec) -> CacheRule:
        with self._lock:
            registry = self._registry(registry)
            names = [c.name for c in self.list_credential_sets(registry)]
            # as ACR: the static target, or anything under a wildcard's prefix, must not exist
            reasons = check_new_rule(
                spec, self.list_cache_rules(registry), limit=self._rule_limit,
                known_credential_sets=names if spec.credential_set else None,
                repositories=self.repositories[registry],
            )  # fmt: skip
            if reasons:
                raise PolicyViolationError(
                    f"cannot create cache rule {spec.name}: {'; '.join(reasons)}"
                )
            credential = (
                registry.child("credentialSets", spec.credential_set)
                if spec.credential_set
                else None
            )
            rule = CacheRule(
                registry.child("cacheRules", spec.name),
                spec.source,
                spec.target,
                credential,
                "Succeeded",
            )
            self.cache_rules[rule.id] = rule
            self.writes.append(("create-cache-rule", str(rule.id)))
            return rule

    def update_cache_rule(
        self, rule: ResourceId, *, credential_set: ResourceId | None
    ) -> CacheRule:
        with self._lock:
            current = self.get_cache_rule(rule)
            if credential_set is not None:
                self.get_credential_set(credential_set)
            updated = replace(current, credential_set_id=credential_set)
            self.cache_rules[rule] = updated
            self.writes.append(("update-cache-rule", str(rule)))
            return updated

    def repository_exists(self, registry: ResourceId, repository: TargetPath) -> bool:
        return repository in self.repositories[self._registry(registry)]

    def list_repositories(self, registry: ResourceId) -> list[TargetPath]:
        return sorted(self.repositories[self._registry(registry)], key=str)

    def delete_cache_rule(self, rule: ResourceId) -> None:
        with self._lock:
            self.get_cache_rule(rule)
            del self.cache_rules[rule]
            self.writes.append(("delete-cache-rule", str(rule)))
