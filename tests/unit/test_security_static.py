"""Security checks as tests, static part: no code path can read a secret value.

The product's Key Vault access is version metadata only (the safety rules in docs/architecture.md). Every module under `shared/`
and `functions/` (and the app entry point) is parsed, and no call, attribute or string names an
operation of `SecretClient` that returns, writes or exports secret material.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

# SecretClient operations that return a value (get_secret, backup_secret, get_deleted_secret),
# write one (set_secret, restore_secret_backup) or change secrets (cachekeeper never does)
FORBIDDEN = frozenset(
    {
        "get_secret",
        "backup_secret",
        "get_deleted_secret",
        "set_secret",
        "restore_secret_backup",
        "begin_delete_secret",
        "begin_recover_deleted_secret",
        "purge_deleted_secret",
        "update_secret_properties",
    }
)
SOURCES = sorted(
    [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py"),
     *ROOT.joinpath("cli").rglob("*.py"), ROOT / "function_app.py"]
)  # fmt: skip


def forbidden_uses(source: str, filename: str = "<source>") -> list[str]:
    """Where `source` names a forbidden operation: as an attribute, a name or a string constant."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value.strip()
        elif isinstance(node, ast.alias):
            name = node.name.rsplit(".", 1)[-1]
        if name in FORBIDDEN:
            found.append(f"{filename}:{getattr(node, 'lineno', '?')}: {name}")
    return found


def test_the_scan_covers_the_product() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert "shared/adapters/azure/secrets.py" in names
    assert "functions/events.py" in names
    assert "cli/ops.py" in names
    assert len(SOURCES) > 40


@pytest.mark.parametrize(
    "snippet",
    [
        "client.get_secret('x')",
        "value = SecretClient(url, cred).get_secret(name, version).value",
        "getattr(client, 'get_secret')(name)",
        "from azure.keyvault.secrets import SecretClient\nf = SecretClient.set_secret",
        "client.backup_secret('x')",
    ],
)
def test_the_scan_finds_value_reads(snippet: str) -> None:
    assert forbidden_uses(snippet) != []


def test_no_code_path_reads_or_writes_a_secret_value() -> None:
    found = [
        use
        for path in SOURCES
        for use in forbidden_uses(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert found == []


def test_the_secrets_adapter_lists_version_properties_only() -> None:
    """The adapter calls one SecretClient operation: the versions list of a secret (ids and
    attributes, never a value)."""
    source = (ROOT / "shared/adapters/azure/secrets.py").read_text()
    calls = {
        node.func.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "list_properties_of_secret_versions" in calls
    allowed = {"list_properties_of_secret_versions", "secrets"}  # secrets(): the client factory
    assert {c for c in calls if "secret" in c} == allowed
