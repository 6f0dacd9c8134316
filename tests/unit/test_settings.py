from __future__ import annotations

import pytest

from shared.domain.ids import ResourceId
from shared.errors import ConfigurationError
from shared.settings import Settings
from tests.conftest import _example_settings

REGISTRY = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/contosocache"
VAULT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-cache"


def minimal(**overrides: str) -> dict[str, str]:
    env = {
        "MANAGED_REGISTRIES": REGISTRY,
        "STORAGE_CONNECTION": "https://acct.table.core.windows.net",
    }
    env.update(overrides)
    return env


def test_defaults_are_safe() -> None:
    settings = Settings.from_env(minimal())
    assert settings.mode == "azure"
    assert settings.remediation_mode == "report"
    assert settings.auto_reconcile is False
    assert settings.expiry_horizon_days == 30
    assert settings.audit_schedule == "0 0 * * * *"
    assert settings.vault_allowlist == ()
    assert (settings.max_rules_per_signal, settings.max_rules_per_registry_hour) == (10, 50)
    assert settings.managed_registries == (ResourceId.parse(REGISTRY),)


def test_the_audit_schedule_is_read_as_the_host_reads_it() -> None:
    first_monday = Settings.from_env(minimal(AUDIT_SCHEDULE=" 0 0 9 1-7 * Mon "))
    assert first_monday.audit_schedule == "0 0 9 1-7 * Mon"
    assert Settings.from_env(minimal(AUDIT_SCHEDULE="   ")).audit_schedule == "0 0 * * * *"


def test_the_local_example_settings_are_valid() -> None:
    settings = Settings.from_env(_example_settings())
    assert settings.mode == "sandbox"
    assert len(settings.managed_registries) == 2
    assert len(settings.vault_allowlist) == 2


def test_lists_accept_commas_spaces_and_duplicates_collapse() -> None:
    settings = Settings.from_env(
        minimal(
            MANAGED_REGISTRIES=f"{REGISTRY}, {REGISTRY.upper().replace('SUBSCRIPTIONS', 'subscriptions')}\n",
            VAULT_ALLOWLIST=f" {VAULT} ",
        )
    )
    assert len(settings.managed_registries) == 1
    assert settings.allows_vault(ResourceId.parse(VAULT.lower()))
    assert settings.manages_registry(ResourceId.parse(REGISTRY))


@pytest.mark.parametrize(
    ("overrides", "setting", "hint"),
    [
        ({"MANAGED_REGISTRIES": ""}, "MANAGED_REGISTRIES", "no registry is configured"),
        ({"MANAGED_REGISTRIES": "contosocache"}, "MANAGED_REGISTRIES", "resource ids like"),
        ({"MANAGED_REGISTRIES": VAULT}, "MANAGED_REGISTRIES", "is a Microsoft.KeyVault/vaults"),
        ({"VAULT_ALLOWLIST": REGISTRY}, "VAULT_ALLOWLIST", "not a Microsoft.KeyVault/vaults"),
        ({"REMEDIATION_MODE": "maybe"}, "REMEDIATION_MODE", "report, fix"),
        ({"CACHEKEEPER_MODE": "cloud"}, "CACHEKEEPER_MODE", "azure, sandbox"),
        ({"EXPIRY_HORIZON_DAYS": "0"}, "EXPIRY_HORIZON_DAYS", "1 to 365"),
        ({"EXPIRY_HORIZON_DAYS": "ten"}, "EXPIRY_HORIZON_DAYS", "1 to 365"),
        ({"AUDIT_SCHEDULE": "0 * * * *"}, "AUDIT_SCHEDULE", "six-field"),
        # The host's NCrontab refuses these, so the timer would never load in Azure.
        ({"AUDIT_SCHEDULE": "0 0 9 * * 7"}, "AUDIT_SCHEDULE", "day-of-week value 7"),
        ({"AUDIT_SCHEDULE": "0 0 9 * * 5-7"}, "AUDIT_SCHEDULE", "day-of-week value 7"),
        ({"AUDIT_SCHEDULE": "0 0\t9 * * *"}, "AUDIT_SCHEDULE", "expected 6 fields"),
        ({"AUDIT_SCHEDULE": "0 0 9 * * *\t"}, "AUDIT_SCHEDULE", "not a valid value"),
        ({"AUDIT_SCHEDULE": "0 0 9 * *\u00a0*"}, "AUDIT_SCHEDULE", "expected 6 fields"),
        ({"AUTO_RECONCILE": "perhaps"}, "AUTO_RECONCILE", "true or false"),
        ({"POLICY_TABLE": "bad-name"}, "POLICY_TABLE", "letters and digits"),
        ({"STORAGE_CONNECTION": ""}, "STORAGE_CONNECTION", "table endpoint"),
        ({"STORAGE_CONNECTION": "somewhere"}, "STORAGE_CONNECTION", "neither"),
        ({"AZURE_CLIENT_ID": "me"}, "AZURE_CLIENT_ID", "GUID"),
        ({"MAX_RULES_PER_SIGNAL": "0"}, "MAX_RULES_PER_SIGNAL", "1 to 1000"),
        ({"MAX_RULES_PER_REGISTRY_HOUR": "lots"}, "MAX_RULES_PER_REGISTRY_HOUR", "1 to 1000"),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(
    overrides: dict[str, str], setting: str, hint: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(minimal(**overrides))
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"setting {setting}:")
    assert hint in str(caught.value)
    assert "Fix:" in str(caught.value)


def test_sandbox_mode_does_not_need_storage_configured() -> None:
    env = minimal(CACHEKEEPER_MODE="sandbox")
    del env["STORAGE_CONNECTION"]
    assert Settings.from_env(env).storage_connection is None
