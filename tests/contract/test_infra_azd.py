"""The azd side of the deployment: azure.yaml, main.parameters.json and the postdeploy hooks.

azd maps its environment onto main.bicep's parameters, and hands main.bicep's outputs to the
hooks as environment variables; these tests hold those three to each other.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import yaml

from tests.contract.test_infra_evaluator import INFRA, ROOT, template

AZD_BUILTINS = {"AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_SUBSCRIPTION_ID"}
HOOKS = ROOT / "scripts"


def _azure_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "azure.yaml").read_text())
    return loaded


def test_azure_yaml_deploys_this_function_app_with_a_postdeploy_hook() -> None:
    config = _azure_yaml()
    (service,) = config["services"].values()
    assert service["host"] == "function"
    assert service["language"] == "python"
    project = (ROOT / service["project"]).resolve()
    assert (project / "function_app.py").is_file()
    assert (project / "host.json").is_file()
    for platform in ("posix", "windows"):
        run = config["hooks"]["postdeploy"][platform]["run"]
        assert (ROOT / run).is_file(), run


def test_the_service_name_matches_the_tag_on_the_function_app() -> None:
    (name,) = _azure_yaml()["services"]
    api = template("app/api.bicep")
    (site,) = [r for r in api.resources.values() if r["type"] == "Microsoft.Web/sites"]
    tags = api.evaluate(site["config"]["tags"], {"tags": {}})
    assert {key.strip("'"): value for key, value in tags.items()} == {"azd-service-name": name}


def _parameters() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    return loaded


def test_the_parameters_file_maps_only_real_parameters_and_all_required_ones() -> None:
    main, mapped = template("main.bicep"), _parameters()
    assert set(mapped) <= set(main.parameters)
    required = {n for n, p in main.parameters.items() if "default" not in p}
    assert required <= set(mapped)


def test_azd_defaults_are_the_bicep_defaults_and_valid() -> None:
    main = template("main.bicep")
    for name, entry in _parameters().items():
        match = re.fullmatch(r"\$\{([A-Z_]+)(?:=(.*))?\}", entry["value"])
        assert match is not None, f"{name}: {entry['value']!r} is not an azd substitution"
        if match[2] is None:
            continue
        declared = main.parameters[name]
        kind, raw = declared["type"], match[2]
        value: Any = {"int": int, "bool": lambda v: {"true": True, "false": False}[v]}.get(
            kind, str
        )(raw)
        assert value == declared.get("default", value), f"{name}: azd and Bicep defaults differ"
        allowed = main.decorator(name, "allowed")
        assert allowed is None or value in allowed, name


def _outputs() -> set[str]:
    return set(template("main.bicep").outputs)


def test_the_posix_hook_reads_only_azd_values_and_main_outputs() -> None:
    text = (HOOKS / "postdeploy.sh").read_text()
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", text))
    assert used, "the hook reads nothing from azd"
    assert used <= AZD_BUILTINS | _outputs(), used - AZD_BUILTINS - _outputs()
    assert {"CACHEKEEPER_WIRING_PARAMETERS", "CACHEKEEPER_WIRED_FUNCTIONS"} <= used
    subprocess.run(["sh", "-n", str(HOOKS / "postdeploy.sh")], check=True)


def test_the_windows_hook_reads_the_same_values() -> None:
    posix = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]+)", (HOOKS / "postdeploy.sh").read_text()))
    text = (HOOKS / "postdeploy.ps1").read_text()
    used = set(re.findall(r"\$env:([A-Z][A-Z0-9_]+)", text))
    assert used <= AZD_BUILTINS | _outputs()
    assert used == posix


def test_the_hooks_deploy_the_wiring_template() -> None:
    for hook in ("postdeploy.sh", "postdeploy.ps1"):
        text = (HOOKS / hook).read_text()
        assert "az deployment sub create" in text, hook
        assert (INFRA / "wiring.bicep").is_file()
        assert re.search(r"infra.{1,6}wiring\.bicep", text), hook
    assert template("wiring.bicep").doc["globals"]["scope"]["value"] == "subscription"


def test_azure_yaml_names_its_schema() -> None:
    first = (ROOT / "azure.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert first.endswith("/schemas/v1.0/azure.yaml.json")


def test_location_is_an_azd_location_limited_to_flex_consumption_regions() -> None:
    main = (INFRA / "main.bicep").read_text(encoding="utf-8")
    declaration = main[: main.index("param location string")]
    declaration = declaration[declaration.rindex("@minLength(1)") :]
    assert "type: 'location'" in declaration
    regions = re.findall(r"^  '([a-z0-9]+)'$", declaration, re.MULTILINE)
    assert {"eastus", "eastus2", "westeurope", "northeurope", "swedencentral", "uksouth"} <= set(
        regions
    )
    assert len(regions) == len(set(regions)) >= 30


def test_azd_hands_the_developer_principal_to_the_bicep() -> None:
    assert _parameters()["principalId"] == {"value": "${AZURE_PRINCIPAL_ID=}"}
    assert template("main.bicep").parameters["principalId"]["default"] == ""
