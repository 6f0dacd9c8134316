"""requirements.lock pins every package and agrees with requirements.in and requirements-dev.txt;
requirements.txt, what the deployment installs, is exactly its runtime subset (`make lock`)."""

from __future__ import annotations

import ast
import importlib.util
import re
from importlib import metadata
from pathlib import Path
from types import ModuleType

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
EXPORTER = ROOT / "scripts" / "export_runtime_lock.py"


def _requirements(path: Path) -> list[Requirement]:
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += _requirements(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def _pins() -> dict[str, list[tuple[str, Requirement]]]:
    pins: dict[str, list[tuple[str, Requirement]]] = {}
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pinned = Requirement(line)
        (version,) = [s.version for s in pinned.specifier if s.operator == "=="]
        pins.setdefault(canonicalize_name(pinned.name), []).append((version, pinned))
    return pins


def test_every_lock_line_is_an_exact_pin() -> None:
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[^\s;,]+( ; .+)?", line), line


def test_every_requirement_is_satisfied_by_a_pinned_line() -> None:
    pins = _pins()
    environment = default_environment()
    for requirement in _requirements(ROOT / "requirements-dev.txt"):
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned in requirements.lock: run make lock"
        applicable = [
            version
            for version, pinned in pins[name]
            if pinned.marker is None or pinned.marker.evaluate(environment)
        ]
        assert applicable, f"no pin of {name} applies to this Python"
        for version in applicable:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {name}=={version}, outside {requirement}: run make lock"
            )


def test_the_runtime_requirements_bound_every_package_to_a_major() -> None:
    for requirement in _requirements(ROOT / "requirements.in"):
        assert any(s.operator == "<" for s in requirement.specifier), (
            f"{requirement} has no upper bound"
        )


def _import_packages(distribution: str) -> set[str]:
    """The packages a distribution installs, as imported: the shallowest directories holding an
    `__init__.py` (so `azure-eventgrid` is `azure.eventgrid`, inside the `azure` namespace),
    checked against `packages_distributions()` for their top-level name."""
    files = [f for f in metadata.files(distribution) or [] if f.name == "__init__.py"]
    depths = [len(f.parts) for f in files]
    packages = {".".join(f.parts[:-1]) for f in files if len(f.parts) == min(depths, default=0)}
    owners = metadata.packages_distributions()
    for package in packages:
        names = {canonicalize_name(d) for d in owners.get(package.split(".")[0], [])}
        assert canonicalize_name(distribution) in names, (distribution, package)
    return packages


def _product_imports() -> set[str]:
    """Every module the deployed product imports (lazy imports inside functions included)."""
    sources = [ROOT / "function_app.py", *(ROOT / "functions").rglob("*.py"),
               *(ROOT / "shared").rglob("*.py")]  # fmt: skip
    found: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_every_runtime_requirement_is_imported_by_the_product() -> None:
    # what is deployed is what the product uses: a requirement nothing in function_app.py,
    # functions/ or shared/ imports belongs in requirements-dev.txt (or nowhere)
    imports = _product_imports()
    environment = default_environment()
    unused = []
    for requirement in _requirements(ROOT / "requirements.in"):
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        packages = _import_packages(requirement.name)
        assert packages, f"{requirement.name} installs no package"
        if not any(i == p or i.startswith(p + ".") for i in imports for p in packages):
            unused.append(f"{requirement.name} ({', '.join(sorted(packages))})")
    assert not unused, f"runtime requirements the product never imports: {unused}"


def _direct(path: Path) -> set[tuple[str, str]]:
    """(package, file) for each requirement written in `path` or the files it includes."""
    found: set[tuple[str, str]] = set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found |= _direct(path.parent / line[3:].strip())
        elif line:
            found.add((canonicalize_name(Requirement(line).name), path.name))
    return found


def test_the_lock_was_compiled_from_the_requirement_files() -> None:
    # every requirement is in the lock "via" the file that names it, and nothing else is: a
    # requirement added, removed or moved between files without `make lock` fails here
    exporter = _exporter()
    via_files = {
        (name, needed_by.removeprefix("-r "))
        for name, _, needs in exporter._entries(LOCK.read_text(encoding="utf-8"))
        for needed_by in needs
        if needed_by.startswith("-r ")
    }
    assert via_files == _direct(ROOT / "requirements-dev.txt"), "run make lock"
    assert all(needs for _, _, needs in exporter._entries(LOCK.read_text(encoding="utf-8")))
    assert LOCK.read_text(encoding="utf-8").startswith(
        "# This file was autogenerated by uv via the following command:\n#    make lock\n"
    )


def _exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_runtime_lock", EXPORTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_what_is_deployed_is_exactly_the_runtime_subset_of_the_lock() -> None:
    deployed = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert deployed == _exporter().runtime_requirements(LOCK.read_text(encoding="utf-8")), (
        "requirements.txt is out of date with requirements.lock: run make lock"
    )
    pins = {line for line in LOCK.read_text(encoding="utf-8").splitlines() if "==" in line}
    lines = [line for line in deployed.splitlines() if line and not line.startswith("#")]
    assert set(lines) <= pins
    names = {canonicalize_name(Requirement(line).name) for line in lines}
    # the runtime ranges are all deployed, the development tools never are
    assert {n for n, f in _direct(ROOT / "requirements-dev.txt") if f == "requirements.in"} <= names
    assert names.isdisjoint({"pytest", "mypy", "ruff", "uv", "schemathesis", "hypothesis"})


def test_the_function_app_package_leaves_out_what_is_not_deployed() -> None:
    ignored = (ROOT / ".funcignore").read_text(encoding="utf-8").split()
    assert "requirements.txt" not in ignored
    assert {"requirements.in", "requirements.lock", "requirements-dev.txt",
            "requirements-runtime.txt", "scripts"} <= set(ignored)  # fmt: skip
