"""Import rules from DESIGN §4: imports point inward; SDKs load lazily."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    return files


def test_shared_never_imports_azure_functions() -> None:
    for path in _modules("shared"):
        bad = {
            n for n in _imports(path) if n == "azure.functions" or n.startswith("azure.functions.")
        }
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_domain_imports_no_azure_sdk_and_nothing_outside_the_domain_but_errors() -> None:
    for path in _modules("shared/domain"):
        for name in _imports(path):
            assert not name.startswith("azure"), f"{path.relative_to(ROOT)} imports {name}"
            if name.startswith("shared"):
                assert name.startswith(("shared.domain", "shared.errors")), (
                    f"{path.relative_to(ROOT)} imports {name}"
                )


def test_functions_and_shared_never_import_the_local_host_or_sandbox_eagerly() -> None:
    for folder in ("functions", "shared"):
        for path in _modules(folder):
            tree = ast.parse(path.read_text())
            for node in tree.body:  # module level only: lazy imports inside functions are allowed
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = (
                        [a.name for a in node.names]
                        if isinstance(node, ast.Import)
                        else [node.module or ""]
                    )
                    assert not any(n.startswith(("devhost", "sandbox")) for n in names), path


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
