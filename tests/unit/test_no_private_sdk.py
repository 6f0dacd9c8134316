"""The product uses the Azure SDKs through their public API only.

Nothing under `shared/`, `functions/` or `function_app.py` imports a private module or name of an
`azure.*` package (a dotted segment or imported name starting with `_`: azure-core's
`pipeline._tools`, a generated client's `_operations`, ...), nor reaches into an object's private
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
        ROOT / "function_app.py",
    ]
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


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
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
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
