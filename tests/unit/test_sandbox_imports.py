"""The sandbox's modules import each other without cycles, counting every import: at module level,
inside functions (lazy) and under `TYPE_CHECKING`. The core makes transports; transports know the
sandbox only as something that answers a request."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "sandbox"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE


def _module(path: Path) -> str:
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def imports() -> dict[str, set[str]]:
    """Each sandbox module and the sandbox modules it imports anywhere in its text."""
    modules = {path.stem for path in ROOT.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in ROOT.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == PACKAGE:  # from sandbox import core / from sandbox import Sandbox
                    found |= {
                        f"{PACKAGE}.{a.name}" if a.name in modules else PACKAGE for a in node.names
                    }
                elif node.module.startswith(PACKAGE + "."):
                    found.add(node.module)
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                found |= {f"{PACKAGE}.{node.module or a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith(PACKAGE + ".")}
        graph[_module(path)] = found - {_module(path)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle, each listed once from its smallest module."""
    found: list[list[str]] = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for successor in sorted(graph.get(node, ())):
            if successor == start:
                found.append(path)
            elif successor not in path and successor > start:
                walk(start, successor, [*path, successor])

    for module in sorted(graph):
        walk(module, module, [module])
    return found


def test_the_cycle_finder_finds_a_lazy_cycle() -> None:
    graph = {"sandbox.core": {"sandbox.transport"}, "sandbox.transport": {"sandbox.core"}}
    assert cycles(graph) == [["sandbox.core", "sandbox.transport"]]


def test_no_import_cycle_among_sandbox_modules() -> None:
    graph = imports()
    assert "sandbox.transport" in graph["sandbox.core"]  # the core makes transports ...
    assert cycles(graph) == []  # ... and nothing leads back to it
