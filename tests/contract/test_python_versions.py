"""The Python versions the app supports, said the same way everywhere: requires-python, the
dependency markers, the Bicep `pythonVersion` parameter and the real-runtime tier's interpreter.

Flex Consumption runs Python 3.10-3.13 (GA); the app supports 3.11-3.13 and deploys 3.13 by
default, the version the real-runtime tier (tests/runtime) runs it on.
"""

from __future__ import annotations

import re
import tomllib

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from tests.conftest import ROOT
from tests.contract.test_infra_evaluator import template

SUPPORTED = ("3.11", "3.12", "3.13")
DEFAULT = "3.13"


def _requires_python() -> SpecifierSet:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return SpecifierSet(project["requires-python"])


def _requirements(name: str) -> list[Requirement]:
    lines = (ROOT / "requirements.in").read_text().splitlines()
    parsed = [Requirement(line.split(" #")[0]) for line in lines if line and line[0].isalpha()]
    return [r for r in parsed if r.name == name]


def test_requires_python_admits_exactly_the_supported_versions() -> None:
    spec = _requires_python()
    assert set(str(spec).split(",")) == {">=3.11", "<3.14"}
    for minor in range(8, 16):
        version = f"3.{minor}"
        assert spec.contains(f"{version}.0") is (version in SUPPORTED), version


def test_the_bicep_allows_the_supported_versions_and_defaults_to_3_13() -> None:
    main = template("main.bicep")
    assert main.decorator("pythonVersion", "allowed") == list(SUPPORTED)
    assert main.parameters["pythonVersion"]["default"] == DEFAULT


def test_each_supported_version_gets_exactly_one_azure_functions_of_its_own_major() -> None:
    # azure-functions 2.x declares Requires-Python >=3.13; 1.x is what 3.11 and 3.12 can install
    requirements = _requirements("azure-functions")
    for version in SUPPORTED:
        environment = {**default_environment(), "python_version": version}
        applying = [r for r in requirements if r.marker is None or r.marker.evaluate(environment)]
        assert len(applying) == 1, version
        (requirement,) = applying
        major = "2" if version == "3.13" else "1"
        assert requirement.specifier.contains(f"{major}.99"), (version, str(requirement))
        other = "1" if major == "2" else "2"
        assert not requirement.specifier.contains(f"{other}.99"), (version, str(requirement))


def test_the_real_runtime_tier_runs_the_default_version_and_the_tools_the_lowest() -> None:
    makefile = (ROOT / "Makefile").read_text()
    tier = re.search(r"^RUNTIME_PYTHON_VERSION \?= (\S+)$", makefile, re.MULTILINE)
    assert tier is not None
    assert tier.group(1).rsplit(".", 1)[0] == DEFAULT
    tools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert tools["ruff"]["target-version"] == "py" + SUPPORTED[0].replace(".", "")
    assert tools["mypy"]["python_version"] == SUPPORTED[0]
