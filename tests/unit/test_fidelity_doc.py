"""docs/fidelity.md is one table that names every sandbox option and every error code the sandbox
emits, and every row says where the rule comes from (or that nothing was found, and what is unknown).

The sandbox is read as source (AST), not imported: the table must follow the code as written."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fidelity.md"
SANDBOX = ROOT / "sandbox"
COLUMNS = ["area", "behaviour", "sandbox", "product", "source", "unknown"]
EMPTY = {"", "—", "-"}
# Calls whose first string argument is an error code the sandbox answers with.
ERROR_CALLS = {"ServiceError", "bad_request", "not_found", "conflict", "_docker_error", "bad"}
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in _CELL_SPLIT.split(line.strip())[1:-1]]


def table_rows() -> tuple[list[list[str]], list[Row]]:
    """(the header rows found, the data rows) of every Markdown table in the document."""
    headers: list[list[str]] = []
    rows: list[Row] = []
    previous = ""
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("|"):
            previous = line
            continue
        cells = _cells(line)
        if not previous.startswith("|"):
            headers.append(cells)
        elif not all(set(cell) <= {"-", ":"} for cell in cells):
            rows.append(Row(number, dict(zip(COLUMNS, cells, strict=False))))
            assert len(cells) == len(COLUMNS), f"fidelity.md:{number}: {len(cells)} cells"
        previous = line
    return headers, rows


def option_fields() -> list[str]:
    """The fields of the `SandboxOptions` dataclass in sandbox/env.py."""
    tree = ast.parse((SANDBOX / "env.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "SandboxOptions":
            return [
                item.target.id
                for item in node.body
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
            ]
    raise AssertionError("SandboxOptions not found in sandbox/env.py")


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _code_of(node: ast.Call, constants: dict[str, str]) -> str | None:
    """The first string among the first two arguments, a module-level constant's value too."""
    for arg in node.args[:2]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.Name) and arg.id in constants:
            return constants[arg.id]
    return None


def _string_constants(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def emitted_codes() -> dict[str, str]:
    """Every error code in sandbox/*.py -> the first file that emits it: the code argument of the
    error helpers, `inner_code=`, `{"code": ...}` literals and the injected faults' table."""
    codes: dict[str, str] = {}
    for path in sorted(SANDBOX.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _string_constants(tree)
        for node in ast.walk(tree):
            found: list[str] = []
            if isinstance(node, ast.Call) and _call_name(node) in ERROR_CALLS:
                found += [code] if (code := _code_of(node, constants)) else []
                found += [
                    kw.value.value
                    for kw in node.keywords
                    if kw.arg == "inner_code"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ]
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "code"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        found.append(value.value)
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_FAULT_ERRORS" for t in node.targets
            ):
                assert isinstance(node.value, ast.Dict)
                for pair in node.value.values:
                    assert isinstance(pair, ast.Tuple) and isinstance(pair.elts[0], ast.Constant)
                    found.append(str(pair.elts[0].value))
            for code in found:
                codes.setdefault(code, path.name)
    return codes


def test_the_document_is_one_table_with_the_agreed_columns() -> None:
    headers, rows = table_rows()
    assert headers == [COLUMNS], f"expected one table with columns {COLUMNS}, found {headers}"
    assert len(rows) > 50


def test_every_row_names_its_source_or_what_is_unknown() -> None:
    _, rows = table_rows()
    for row in rows:
        where = f"fidelity.md:{row.line}"
        assert row.cells["area"] not in EMPTY, where
        assert row.cells["behaviour"] not in EMPTY, where
        source, unknown = row.cells["source"], row.cells["unknown"]
        assert source not in EMPTY, f"{where}: no source"
        if "none found" in source.lower() or "no source found" in source.lower():
            assert unknown not in EMPTY, f"{where}: says none found but names nothing unknown"


def test_every_sandbox_option_is_named_in_the_table() -> None:
    _, rows = table_rows()
    text = "\n".join(" ".join(row.cells.values()) for row in rows)
    missing = [name for name in option_fields() if f"`{name}`" not in text]
    assert not missing, f"sandbox options absent from docs/fidelity.md: {missing}"


def test_every_error_code_the_sandbox_emits_has_an_error_code_row() -> None:
    _, rows = table_rows()
    listed = {
        match
        for row in rows
        if row.cells["area"] == "error codes"
        for match in re.findall(r"^`([^`]+)`", row.cells["behaviour"])
    }
    codes = emitted_codes()
    assert {"TargetRepositoryPrefixMatchesExistingRegistries", "SecretDisabled"} <= set(codes)
    missing = {code: path for code, path in codes.items() if code not in listed}
    assert not missing, f"error codes absent from the error-code rows: {missing}"


def test_every_error_code_row_says_real_or_sandbox_defined() -> None:
    _, rows = table_rows()
    for row in rows:
        if row.cells["area"] != "error codes":
            continue
        source = row.cells["source"]
        assert source.startswith("real") or "sandbox-defined" in source, (
            f"fidelity.md:{row.line}: say 'real (source)' or 'sandbox-defined (no source found)'"
        )
