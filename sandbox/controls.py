"""Python control surface of the Sandbox: seed and mutate state the way Azure changes under us."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sandbox import scenario as sc
from sandbox.arm_auth import revoke
from sandbox.clock import Clock
from sandbox.env import TIMING_FIELDS, Env, SandboxOptions
from sandbox.events import secret_event
from sandbox.health import Health, reported_health
from sandbox.kv_data import add_version
from sandbox.state import (
    CredentialSet,
    Registry,
    RoleAssignment,
    SecretVersion,
    State,
    Vault,
    new_guid,
    new_secret_value,
)


class SandboxControls:
    """Mixin: control operations on the state, each under the sandbox lock."""

    state: State
    clock: Clock
    options: SandboxOptions
    _lock: threading.RLock

    # -- lookups -----------------------------------------------------------------------------
    def registry(self, name: str) -> Registry:
        """A registry by name (or ARM id); KeyError if absent."""
        for reg in self.state.registries.values():
            if name.lower() in (reg.name.lower(), reg.id.lower()):
                return reg
        raise KeyError(f"no registry {name!r}")

    def vault(self, name: str) -> Vault:
        """A vault by name; KeyError if absent."""
        vault = self.state.vault(name.rsplit("/", 1)[-1])
        if vault is None:
            raise KeyError(f"no vault {name!r}")
        return vault

    def credential_set(self, registry: str, name: str) -> CredentialSet:
        """A credential set by registry and name; KeyError if absent."""
        cred = self.registry(registry).credential_sets.get(name.lower())
        if cred is None:
            raise KeyError(f"no credential set {name!r} in {registry!r}")
        return cred

    def principal_of(self, registry: str, credential_set: str) -> str:
        """The principal id of a credential set's identity."""
        with self._lock:
            pid = self.credential_set(registry, credential_set).principal_id
        if pid is None:
            raise KeyError(f"credential set {credential_set!r} has no identity")
        return pid

    def health(self, registry: str, credential_set: str) -> Health:
        """The credential set's health as a GET would report it now (`health_refresh_seconds`:
        the last evaluation while the next is not due)."""
        with self._lock:
            cred = self.credential_set(registry, credential_set)
            now, refresh = self.clock.now(), self.options.health_refresh_seconds
            return reported_health(self.state, cred, now, refresh)[0]

    def set_timing(self, **seconds: float) -> dict[str, float]:
        """Set `health_refresh_seconds` and/or `rbac_delay_seconds`; returns both."""
        with self._lock:
            for name, value in seconds.items():
                if name not in TIMING_FIELDS.values():
                    raise TypeError(f"unknown timing option {name!r}")
                if isinstance(value, bool) or not 0 <= float(value) <= 86_400:
                    raise ValueError(f"{name} must be from 0 to 86400 seconds, not {value!r}")
                setattr(self.options, name, float(value))
            return self.timing()

    def timing(self) -> dict[str, float]:
        """The health refresh period and the RBAC delay now in force, in seconds."""
        return {key: getattr(self.options, name) for key, name in TIMING_FIELDS.items()}

    def env(self) -> Env:
        """A handler environment at the current sandbox time (caller holds the lock)."""
        return Env(self.state, self.clock.now(), self.options)

    # -- secrets -------------------------------------------------------------------------------
    def add_secret_version(
        self,
        vault: str,
        name: str,
        *,
        value: str | None = None,
        enabled: bool = True,
        not_before: datetime | str | None = None,
        expires: datetime | str | None = None,
        content_type: str | None = None,
        tags: dict[str, str] | None = None,
        version_id: str | None = None,
    ) -> dict[str, Any]:
        """Rotate: add a new current version (`version_id`: its 32-hex id instead of a random
        one); returns `{version, id, eventGrid, cloudEvent}`. Two calls within one second of
        the sandbox clock give versions whose `created` is the same whole second, as in Key
        Vault; the events' times keep the sub-second clock."""
        with self._lock:
            now = self.clock.now()
            body: dict[str, Any] = {
                "attributes": {
                    "enabled": enabled,
                    "nbf": sc.when(not_before, now),
                    "exp": sc.when(expires, now),
                }
            }
            if content_type is not None:
                body["contentType"] = content_type
            if tags is not None:
                body["tags"] = tags
            target = self.vault(vault)
            secret, version = add_version(
                target, name, value or new_secret_value(), now, body, version_id=version_id
            )
            event = secret_event(target, secret, version, now)
            return {
                "version": version.version,
                "id": f"{target.uri}secrets/{secret.name}/{version.version}",
                **event,
            }

    def secret_version(self, vault: str, name: str, version: str | None = None) -> SecretVersion:
        """One version (the current one when `version` is None); KeyError if absent."""
        secret = self.vault(vault).secrets.get(name.lower())
        found = None if secret is None else (secret.find(version) if version else secret.latest)
        if found is None:
            raise KeyError(f"no secret version {vault}/{name}/{version}")
        return found

    def update_secret_version(
        self,
        vault: str,
        name: str,
        version: str | None = None,
        **changes: Any,
    ) -> SecretVersion:
        """Change `enabled`, `not_before` or `expires` of a version (None version = current)."""
        with self._lock:
            now = self.clock.now()
            found = self.secret_version(vault, name, version)
            if "enabled" in changes:
                found.enabled = bool(changes.pop("enabled"))
            if "not_before" in changes:
                found.not_before = sc.when(changes.pop("not_before"), now)
            if "expires" in changes:
                found.expires = sc.when(changes.pop("expires"), now)
            if changes:
                raise TypeError(f"unknown secret attributes: {sorted(changes)}")
            found.updated = now
            return found

    def disable_secret_version(self, vault: str, name: str, version: str | None = None) -> None:
        """Disable a version."""
        self.update_secret_version(vault, name, version, enabled=False)

    def enable_secret_version(self, vault: str, name: str, version: str | None = None) -> None:
        """Enable a version."""
        self.update_secret_version(vault, name, version, enabled=True)

    def set_secret_expiry(
        self, vault: str, name: str, version: str | None, expires: datetime | str | None
    ) -> None:
        """Set (or clear, with None) a version's expiry."""
        self.update_secret_version(vault, name, version, expires=expires)

    # -- access ---------------------------------------------------------------------------------
    def add_role_assignment(
        self,
        principal_id: str,
        role: str,
        scope: str | dict[str, str],
        *,
        principal_type: str = "ServicePrincipal",
        condition: str | None = None,
        assignment_id: str | None = None,
    ) -> RoleAssignment:
        """Grant `role` (name or GUID) at `scope` (ARM id or `{vault, secret}`), as someone else
        would through ARM: access evaluation honours it after `rbac_delay_seconds`."""
        with self._lock:
            now = self.clock.now()
            assignment = RoleAssignment(
                guid=(assignment_id or new_guid()).lower(),
                scope=sc.scope(self.state, scope),
                role_definition_guid=sc.role_guid(self.state, role),
                principal_id=principal_id,
                principal_type=principal_type,
                created=now,
                condition=condition,
                condition_version="2.0" if condition else None,
                effective_at=now + timedelta(seconds=self.options.rbac_delay_seconds),
            )
            self.state.role_assignments[assignment.guid] = assignment
            return assignment

    def remove_role_assignments(
        self,
        *,
        assignment_id: str | None = None,
        principal_id: str | None = None,
        scope: str | None = None,
    ) -> int:
        """Remove assignments matching every given filter; returns how many went (access
        evaluation honours them for `rbac_delay_seconds` more)."""
        with self._lock:
            doomed = [
                a
                for a in self.state.role_assignments.values()
                if (assignment_id is None or a.guid == assignment_id.lower())
                and (principal_id is None or a.principal_id.lower() == principal_id.lower())
                and (scope is None or a.scope.lower() == scope.lower())
            ]
            env = self.env()
            for assignment in doomed:
                revoke(env, assignment)
            return len(doomed)

    def role_assignments_for(self, principal_id: str) -> list[RoleAssignment]:
        """All assignments of a principal."""
        with self._lock:
            return [
                a
                for a in self.state.role_assignments.values()
                if a.principal_id.lower() == principal_id.lower()
            ]

    def set_access_policy(
        self,
        vault: str,
        object_id: str,
        secrets: list[str],
        *,
        application_id: str | None = None,
    ) -> None:
        """Add or replace the access policy of `object_id` (empty list removes it); with
        `application_id` the entry is a compound identity (that application for the object)."""
        with self._lock:
            target = self.vault(vault)
            target.access_policies = [
                p
                for p in target.access_policies
                if str(p.get("objectId", "")).lower() != object_id.lower()
            ]
            if secrets:
                entry: dict[str, Any] = {
                    "tenantId": target.tenant_id,
                    "objectId": object_id,
                    "permissions": {"keys": [], "secrets": list(secrets), "certificates": []},
                }
                if application_id:
                    entry["applicationId"] = application_id
                target.access_policies.append(entry)

    def queue_principal_ids(self, *principal_ids: str) -> None:
        """Principal ids the next new system-assigned identities get (so grants can be pre-seeded)."""
        with self._lock:
            self.state.pending_principal_ids.extend(principal_ids)

    def set_diagnostic_setting(
        self,
        registry: str,
        name: str = "cachekeeper",
        *,
        workspace_id: str | None = None,
        categories: list[str] | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        """Create or replace a diagnostic setting on a registry (ARM `properties`, or a
        workspace and categories; default: the repository events, resource-specific)."""
        raw: dict[str, Any] = {"workspaceId": workspace_id}
        if categories is not None:
            raw["categories"] = categories
        if properties is not None:
            raw["properties"] = properties
        with self._lock:
            settings = self.registry(registry).diagnostic_settings
            settings[name.lower()] = (name, sc.diagnostic_properties(raw))

    def remove_diagnostic_setting(self, registry: str, name: str = "cachekeeper") -> bool:
        """Delete a registry's diagnostic setting; whether there was one."""
        with self._lock:
            return self.registry(registry).diagnostic_settings.pop(name.lower(), None) is not None

    def add_repository(self, registry: str, repository: str) -> None:
        """Make a repository exist in a registry (e.g. someone pushed into it)."""
        with self._lock:
            self.registry(registry).repositories.add(repository)
