"""The Bicep switch for App Service authentication (Easy Auth with Entra ID): off by default, and
the app is told whether it is on, since only then may it trust the principal headers."""

from __future__ import annotations

from typing import Any

from shared.settings import Settings, configuration_warnings
from tests.contract.test_infra_bicep import CLIENT_ID, app_settings, main_env
from tests.contract.test_infra_evaluator import template

APP_REGISTRATION = "c2c2c2c2-1111-2222-3333-444444444444"


def _authentication(**overrides: Any) -> list[dict[str, Any]]:
    ((api, env),) = template("main.bicep").module_envs("api", main_env(**overrides))
    env |= {"identity": {"properties": {"clientId": CLIENT_ID}}}
    (symbol,) = [s for s, r in api.resources.items() if r["type"] == "Microsoft.Web/sites/config"]
    return [
        {"name": api.evaluate(i.body["name"], i.env), **api.evaluate(i.body["properties"], i.env)}
        for i in api.instances("resource", symbol, env)
    ]


def test_authentication_is_off_by_default_and_the_app_knows() -> None:
    assert _authentication() == []
    parsed = Settings.from_env(app_settings())
    assert parsed.app_service_authentication is False
    assert parsed.admin_app_role_configured is False  # no role that nothing would check
    assert configuration_warnings(parsed) == ()


def test_the_switch_puts_entra_id_in_front_and_keeps_function_keys_working() -> None:
    (config,) = _authentication(enableAppServiceAuthentication=True, authClientId=APP_REGISTRATION)
    assert config["name"] == "authsettingsV2"
    assert config["platform"] == {"enabled": True}
    # Event Grid, the alert's action group and the CLI come without a token, with a key
    assert config["globalValidation"] == {
        "requireAuthentication": False,
        "unauthenticatedClientAction": "AllowAnonymous",
    }
    entra = config["identityProviders"]["azureActiveDirectory"]
    assert entra["enabled"] is True
    assert entra["registration"]["clientId"] == APP_REGISTRATION
    assert entra["registration"]["openIdIssuer"].startswith("https://login.microsoftonline.com/")
    assert f"api://{APP_REGISTRATION}" in entra["validation"]["allowedAudiences"]
    parsed = Settings.from_env(
        app_settings(
            enableAppServiceAuthentication=True,
            authClientId=APP_REGISTRATION,
            adminAppRole="Ops.Writer",
        )
    )
    assert parsed.app_service_authentication is True
    assert parsed.admin_app_role == "Ops.Writer"
    assert configuration_warnings(parsed) == ()
