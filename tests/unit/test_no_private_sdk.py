"""The product uses the Azure SDKs through their public API only.

Nothing under `shared/`, `functions/`, `cli/`, `devhost/` or `function_app.py` imports a private module or name of an
`azure.*` package (a dotted segment or imported name starting with `_`: azure-core's
`pipeline._tools`, a generated client's `_operations`, ...), nor loads one by name (`importlib.import_module("azure.core._x")`, `__import__`), nor reaches into an object's private
attributes (`client._client`, `._config`, `._pipeline`, `._serialize`, `._deserialize`, ...). A
module may use the private attributes of the classes it defines itself (`other._key` inside
`ResourceId`), and nothing else's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = sorted(
    [
        *(ROOT / "shared").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "cli").rglob("*.py"),
        *(ROOT / "devhost").rglob("*.py"),
        ROOT / "function_app.py",
    ]
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_azure_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "azure" and any(_private(p) for p in parts)


def _first_string(node: ast.Call, index: int) -> str:
    if len(node.args) > index and isinstance(node.args[index], ast.Constant):
        value = node.args[index].value  # type: ignore[attr-defined]
        return value if isinstance(value, str) else ""
    return ""


def _private_getattr(node: ast.Call) -> bool:
    """`getattr(x, "_name")` and its kin."""
    named = isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "hasattr")
    return named and _private(_first_string(node, 1))


def _loads_private(node: ast.Call) -> bool:
    """`importlib.import_module("azure.x._y")`, `import_module(...)`, `__import__(...)`."""
    func = node.func
    loader = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    return loader and _private_azure_module(_first_string(node, 0))


def _own_private_attributes(tree: ast.Module) -> set[str]:
    """Private attributes the module's own classes define: `self._x = ...` or a `_x:` field."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    own.add(item.target.id)
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            own.add(node.attr)
    return {name for name in own if _private(name)}


def violations(source: str, where: str = "<source>") -> list[str]:
    """Private SDK imports and private attribute reads in `source`, as `where:line: text`."""
    tree = ast.parse(source)
    own = _own_private_attributes(tree)
    found: list[str] = []

    def report(node: ast.AST) -> None:
        found.append(f"{where}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "azure" and any(_private(p) for p in parts):
                    report(node)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "azure" and (
                any(_private(p) for p in parts) or any(_private(a.name) for a in node.names)
            ):
                report(node)
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            mine = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not mine and node.attr not in own:
                report(node)
        elif isinstance(node, ast.Call) and (_private_getattr(node) or _loads_private(node)):
            report(node)
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from azure.core.pipeline._tools import is_rest",
        "from azure.core.rest._http_response_impl import HttpResponseImpl",
        "import azure.mgmt.containerregistry._operations",
        "from azure.core.exceptions import _private_helper",
        "def f(client):\n    return client._client.send_request(request)",
        "def f(client):\n    return client._config.retry_policy",
        "def f(client):\n    return client._pipeline",
        "def f(client):\n    return client._serialize, client._deserialize",
        "def f(client):\n    return getattr(client, '_client')",
        "import importlib\nm = importlib.import_module('azure.core.pipeline._tools')",
        "from importlib import import_module\nm = import_module('azure.mgmt.authorization._operations')",
        "m = __import__('azure.core._enum_meta')",
    ],
)
def test_the_check_catches_private_sdk_use(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from azure.core.exceptions import HttpResponseError",
        "from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters",
        "class A:\n    def __init__(self):\n        self._client = 1\n    def f(self):\n        return self._client",
        "class Id:\n    _key: str\n    def __eq__(self, other):\n        return self._key == other._key",
        "from shared.adapters.tables._client import TableClient",  # our own private modules
        "import importlib\nm = importlib.import_module('azure.core.exceptions')",
    ],
)
def test_the_check_allows_public_sdk_use_and_our_own_privates(source: str) -> None:
    assert violations(source) == []


def test_the_product_uses_only_the_public_sdk_api() -> None:
    assert PRODUCT
    found = [
        v
        for path in PRODUCT
        for v in violations(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert found == []
