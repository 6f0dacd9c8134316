"""Import rules: imports point inward, the product never knows its hosts or the emulator, there
are no import cycles, and SDKs load lazily.

Every rule counts every import: at module level, inside functions (lazy imports) and under
`if TYPE_CHECKING:`. The cycle check leaves out `if TYPE_CHECKING:` blocks, which never run.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "devhost", "functions", "sandbox", "shared")


@dataclass(frozen=True, slots=True)
class Imported:
    """One imported module, resolved to its absolute name."""

    name: str
    line: int
    type_checking: bool  # under `if TYPE_CHECKING:`, never executed


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _our_modules() -> dict[str, Path]:
    found = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
    found["function_app"] = ROOT / "function_app.py"
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _from_target(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _walk(node: ast.AST, under_type_checking: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for inner in child.body:
                yield inner, True
                yield from _walk(inner, True)
            for inner in child.orelse:
                yield inner, under_type_checking
                yield from _walk(inner, under_type_checking)
            continue
        yield child, under_type_checking
        yield from _walk(child, under_type_checking)


@cache
def _imports(path: Path) -> tuple[Imported, ...]:
    """Every import in the file, wherever it is; `from a import b` names `a.b` when that is one
    of our modules, else `a`."""
    module, ours = _module_name(path), _our_modules()
    found: list[Imported] = []
    for node, type_checking in _walk(ast.parse(path.read_text(), filename=str(path)), False):
        if isinstance(node, ast.Import):
            found += [Imported(a.name, node.lineno, type_checking) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(node, module, path.name == "__init__.py")
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.append(Imported(full if full in ours else target, node.lineno, type_checking))
    return tuple(found)


def _modules(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    return files


def _is_within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _violations(folder: str, *forbidden: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{imported.line} imports {imported.name}"
        for path in _modules(folder)
        for imported in _imports(path)
        if _is_within(imported.name, *forbidden)
    ]


def test_shared_never_imports_azure_functions() -> None:
    assert _violations("shared", "azure.functions") == []


def test_domain_imports_no_azure_sdk_and_nothing_outside_the_domain_but_errors() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{imported.line} imports {imported.name}"
        for path in _modules("shared/domain")
        for imported in _imports(path)
        if _is_within(imported.name, "azure")
        or (
            _is_within(imported.name, "shared")
            and not _is_within(imported.name, "shared.domain", "shared.errors")
        )
    ]
    assert bad == []


def test_functions_and_shared_never_import_the_local_host_the_cli_or_sandbox() -> None:
    # not even lazily: sandbox mode is wired by devhost, the CLI and tests (sandbox/wiring.py)
    for folder in ("functions", "shared"):
        assert _violations(folder, "devhost", "sandbox", "cli") == []


def test_services_reach_adapters_only_through_ports() -> None:
    assert _violations("shared/services", "shared.adapters", "shared.bootstrap") == []


def test_the_emulation_never_imports_the_product() -> None:
    # sandbox/wiring.py is the one bridge (the product over the sandbox); nothing else in the
    # sandbox imports shared/ or the bridge, so the sandbox stays an independent oracle
    bridge = ROOT / "sandbox" / "wiring.py"
    bad = [
        f"{path.relative_to(ROOT)}:{imported.line} imports {imported.name}"
        for path in _modules("sandbox")
        if path != bridge
        for imported in _imports(path)
        if _is_within(imported.name, "shared", "sandbox.wiring", "cli", "devhost", "functions")
    ]
    assert bad == []


def _import_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports when it runs (TYPE_CHECKING blocks left out)."""
    ours = _our_modules()
    graph: dict[str, set[str]] = {}
    for module, path in ours.items():
        targets: set[str] = set()
        for imported in _imports(path):
            parts = imported.name.split(".")
            while parts and ".".join(parts) not in ours:
                parts.pop()  # `import a.b.name` where name is not a module
            target = ".".join(parts)
            if target and target != module and not imported.type_checking:
                targets.add(target)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e", "d"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    graph = _import_graph()
    assert {"shared.bootstrap", "sandbox.core", "devhost.cli", "cli.main"} <= graph.keys()
    assert _cycles(graph) == []


def test_importing_function_app_loads_no_sdk_client_module() -> None:
    probe = (
        "import json, sys; import function_app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('azure.mgmt', 'azure.keyvault', "
        "'azure.identity', 'azure.data', 'azure.eventgrid', 'azure.core')))))"
    )
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == []


MAX_MODULE_LINES = 300
PRODUCT_FOLDERS = ("shared", "functions", "cli", "devhost")


def test_no_product_module_is_over_300_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {count} lines"
        for folder in PRODUCT_FOLDERS
        for path in _modules(folder)
        if (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "\n".join(long)
