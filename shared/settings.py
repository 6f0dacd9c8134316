"""Settings from the environment (app settings in Azure, `Values` of local.settings.json locally).

A bad or missing setting stops start-up with a message that names the setting and the fix.
Parsing is pure: `Settings.from_env(mapping)`; nothing here touches the network.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.domain.event_topics import parse_topic_endpoint
from shared.domain.ids import ResourceId
from shared.errors import ConfigurationError, InvalidInputError
from shared.hosting.ncrontab import parse_ncrontab
from shared.setting_values import (
    bool_setting,
    choice_setting,
    guid_setting,
    int_setting,
    split_list,
    text_setting,
)

if TYPE_CHECKING:
    from shared.domain.discovery import RegistryScope

__all__ = ["Mode", "RemediationMode", "Settings", "configuration_warnings", "load_settings"]

Mode = Literal["azure", "sandbox"]
RemediationMode = Literal["report", "fix"]

_TABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{2,62}", re.ASCII)

DEFAULT_AUDIT_SCHEDULE = "0 0 * * * *"


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated configuration of one cachekeeper deployment."""

    mode: Mode
    managed_registries: tuple[ResourceId, ...]
    vault_allowlist: tuple[ResourceId, ...]
    policy_table: str
    journal_table: str
    remediation_mode: RemediationMode
    expiry_horizon_days: int
    audit_schedule: str
    auto_reconcile: bool
    storage_connection: str | None
    managed_identity_client_id: str | None
    sandbox_scenario: str | None
    admin_app_role: str = (
        "Cachekeeper.Admin"  # needed for admin writes when Entra ID fronts the app
    )
    pin_on_disabled_latest: bool = False  # PIN_ON_DISABLED_LATEST (acts in REMEDIATION_MODE=fix)
    # APP_SERVICE_AUTHENTICATION: App Service authentication (Easy Auth) fronts the app, so the
    # platform strips and injects the x-ms-client-principal* headers; only then are they trusted.
    app_service_authentication: bool = False
    admin_app_role_configured: bool = False  # ADMIN_APP_ROLE was set explicitly
    # APP_PRINCIPAL_ID: the app identity's object id; the product never grants a role to it
    app_principal_id: str | None = None
    directory_lookup: bool = False  # DIRECTORY_LOOKUP: read Graph for pull rows by name prefix
    max_rules_per_signal: int = 10  # MAX_RULES_PER_SIGNAL: cache rules one signal may create
    max_rules_per_registry_hour: int = 50  # MAX_RULES_PER_REGISTRY_HOUR, for all signals together
    # ARM_READ_RESERVE: reads of each subscription's ARM budget (250, refilled at 25/s) the
    # app's pacing leaves for the principal's other tools (shared/adapters/azure/pacing.py)
    arm_read_reserve: int = 50
    # REGISTRY_SCOPE + REGISTRY_TAG_FILTER: the audit also covers the registries found there
    registry_scope: RegistryScope | None = None
    events_topic_endpoint: str | None = None  # EVENTS_TOPIC_ENDPOINT: None, publishing is off

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Parse and validate settings; raise ConfigurationError naming the first bad one."""
        mode = choice_setting(env, "CACHEKEEPER_MODE", ("azure", "sandbox"), "azure")
        return cls(
            mode=mode,  # type: ignore[arg-type]
            managed_registries=_registries(env),
            vault_allowlist=_vaults(env),
            policy_table=_table(env, "POLICY_TABLE", "cachekeeperpolicy"),
            journal_table=_table(env, "JOURNAL_TABLE", "cachekeeperjournal"),
            remediation_mode=choice_setting(env, "REMEDIATION_MODE", ("report", "fix"), "report"),  # type: ignore[arg-type]
            expiry_horizon_days=int_setting(env, "EXPIRY_HORIZON_DAYS", 30, low=1, high=365),
            audit_schedule=_schedule(env),
            auto_reconcile=bool_setting(env, "AUTO_RECONCILE", default=False),
            storage_connection=_storage(env, mode),
            managed_identity_client_id=_client_id(env),
            sandbox_scenario=text_setting(env, "SANDBOX_SCENARIO"),
            admin_app_role=_app_role(env),
            pin_on_disabled_latest=bool_setting(env, "PIN_ON_DISABLED_LATEST", default=False),
            app_service_authentication=bool_setting(
                env, "APP_SERVICE_AUTHENTICATION", default=False
            ),
            admin_app_role_configured=text_setting(env, "ADMIN_APP_ROLE") is not None,
            app_principal_id=guid_setting(
                env, "APP_PRINCIPAL_ID", "set the app identity's object (principal) id"
            ),
            directory_lookup=bool_setting(env, "DIRECTORY_LOOKUP", default=False),
            max_rules_per_signal=int_setting(env, "MAX_RULES_PER_SIGNAL", 10, low=1, high=1000),
            max_rules_per_registry_hour=int_setting(
                env, "MAX_RULES_PER_REGISTRY_HOUR", 50, low=1, high=1000
            ),
            arm_read_reserve=int_setting(env, "ARM_READ_RESERVE", 50, low=0, high=200),
            registry_scope=_registry_scope(env),
            events_topic_endpoint=_topic(env),
        )

    @property
    def pins_disabled_latest(self) -> bool:
        """Pin a versionless reference whose latest version is disabled to the newest valid one:
        only with PIN_ON_DISABLED_LATEST in fix mode (it turns a versionless set versioned)."""
        return self.pin_on_disabled_latest and self.remediation_mode == "fix"

    def manages_registry(self, registry: ResourceId) -> bool:
        """True when the registry is one of the managed registries (ids compare case-insensitively)."""
        return registry in self.managed_registries

    def allows_vault(self, vault: ResourceId) -> bool:
        """True when the vault is on the allow-list."""
        return vault in self.vault_allowlist


def configuration_warnings(settings: Settings) -> tuple[str, ...]:
    """What start-up logs as warnings and `/api/status` reports: settings that look enforced
    but are not."""
    warnings: list[str] = []
    if settings.admin_app_role_configured and not settings.app_service_authentication:
        warnings.append(
            f"ADMIN_APP_ROLE is {settings.admin_app_role!r} but APP_SERVICE_AUTHENTICATION is "
            "off: nothing checks the app role, every function-key holder may write, and "
            "changes are recorded as made by 'function key'; enable App Service "
            "authentication (infra parameter enableAppServiceAuthentication)"
        )
    return tuple(warnings)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env`, or from the process environment."""
    return Settings.from_env(os.environ if env is None else env)


def _resource_ids(
    env: Mapping[str, str], name: str, kind: str, example: str
) -> tuple[ResourceId, ...]:
    ids: list[ResourceId] = []
    for part in split_list(env.get(name, "")):
        try:
            rid = ResourceId.parse(part)
        except InvalidInputError as exc:
            raise ConfigurationError(
                name, str(exc), f"list {kind} resource ids like {example}"
            ) from exc
        if rid.full_type.lower() != kind.lower():
            raise ConfigurationError(
                name,
                f"{part!r} is a {rid.full_type}, not a {kind}",
                f"list {kind} resource ids like {example}",
            )
        if rid not in ids:
            ids.append(rid)
    return tuple(ids)


_REGISTRY_EXAMPLE = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>"
_VAULT_EXAMPLE = (
    "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>"
)


def _registries(env: Mapping[str, str]) -> tuple[ResourceId, ...]:
    ids = _resource_ids(
        env, "MANAGED_REGISTRIES", "Microsoft.ContainerRegistry/registries", _REGISTRY_EXAMPLE
    )
    if not ids:
        raise ConfigurationError(
            "MANAGED_REGISTRIES",
            "no registry is configured",
            f"set it to a comma-separated list of registry resource ids ({_REGISTRY_EXAMPLE})",
        )
    return ids


def _registry_scope(env: Mapping[str, str]) -> RegistryScope | None:
    scopes, tags = (
        text_setting(env, "REGISTRY_SCOPE"),
        text_setting(env, "REGISTRY_TAG_FILTER") or "",
    )
    if scopes is None:
        if tags:
            raise ConfigurationError(
                "REGISTRY_TAG_FILTER", "it filters no scope", "set REGISTRY_SCOPE"
            )
        return None
    from shared.domain.discovery import parse_scope  # only when a scope is set: start-up stays lean

    try:
        return parse_scope(scopes, tags)
    except InvalidInputError as exc:
        name = "REGISTRY_TAG_FILTER" if str(exc).startswith("tag") else "REGISTRY_SCOPE"
        raise ConfigurationError(name, str(exc), "see the README's configuration table") from None


def _vaults(env: Mapping[str, str]) -> tuple[ResourceId, ...]:
    return _resource_ids(env, "VAULT_ALLOWLIST", "Microsoft.KeyVault/vaults", _VAULT_EXAMPLE)


def _table(env: Mapping[str, str], name: str, default: str) -> str:
    value = text_setting(env, name) or default
    if not _TABLE_NAME.fullmatch(value):
        raise ConfigurationError(
            name,
            f"{value!r} is not a valid table name",
            "use 3-63 letters and digits, starting with a letter",
        )
    return value


def _schedule(env: Mapping[str, str]) -> str:
    # Parsed as the host will read it: NCrontab splits on spaces only, so only spaces are trimmed
    # and a tab or a no-break space the settings editor kept is an error here as it is there.
    value = env.get("AUDIT_SCHEDULE", "").strip(" ")
    value = value if value.strip() else DEFAULT_AUDIT_SCHEDULE
    try:
        parse_ncrontab(value)
    except ValueError as exc:
        raise ConfigurationError(
            "AUDIT_SCHEDULE",
            f"{value!r} is not a six-field NCRONTAB expression ({exc})",
            f"use seconds first, e.g. {DEFAULT_AUDIT_SCHEDULE!r} for hourly",
        ) from exc
    return value


def _storage(env: Mapping[str, str], mode: str) -> str | None:
    value = text_setting(env, "STORAGE_CONNECTION")
    if value is None and mode == "azure":
        raise ConfigurationError(
            "STORAGE_CONNECTION",
            "no table storage is configured",
            "set it to the table endpoint (https://<account>.table.core.windows.net, used with the "
            "app's managed identity) or to a storage connection string",
        )
    if value is not None and "=" not in value and not value.startswith(("https://", "http://")):
        raise ConfigurationError(
            "STORAGE_CONNECTION",
            "it is neither a connection string nor a table endpoint URL",
            "set it to https://<account>.table.core.windows.net or a connection string",
        )
    return value


def _topic(env: Mapping[str, str]) -> str | None:
    value = text_setting(env, "EVENTS_TOPIC_ENDPOINT")
    try:
        return None if value is None else parse_topic_endpoint(value)
    except InvalidInputError as exc:
        raise ConfigurationError("EVENTS_TOPIC_ENDPOINT", str(exc), "set it to the topic's endpoint "
                                 "(az eventgrid topic show --query endpoint), or unset it") from exc  # fmt: skip


def _client_id(env: Mapping[str, str]) -> str | None:
    return guid_setting(env, "AZURE_CLIENT_ID", "set the user-assigned identity's client id")


_APP_ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}", re.ASCII)


def _app_role(env: Mapping[str, str]) -> str:
    value = text_setting(env, "ADMIN_APP_ROLE") or "Cachekeeper.Admin"
    if not _APP_ROLE.fullmatch(value):
        raise ConfigurationError(
            "ADMIN_APP_ROLE",
            f"{value!r} is not an app role value",
            "use the app role's value as defined in the app registration (e.g. Cachekeeper.Admin)",
        )
    return value
