"""Every regular expression of the product validates exactly what it says.

Two traps of Python's `re`, checked on the source of every product module (the call sites of
`re.compile`, `re.match`, `re.fullmatch`, `re.sub`, ...):

- `$` matches before a trailing newline, so `re.match(r"^[a-z]+$", "name\\n")` matches and
  `"name\\n"` passes as a name. Anchored patterns are used with `fullmatch` (or end in `\\Z`),
  never with a `$`.
- Without `re.ASCII`, `\\d`, `\\w` and `\\s` take any Unicode digit, letter or space, and
  IGNORECASE folds the long s (U+017F) to `s` and the Kelvin sign to `k` (`http\u017f://` is
  read as `https://`). Every
  pattern says `re.ASCII`, or `re.UNICODE` where it must read non-ASCII text on purpose, which
  only a pattern with a Unicode-aware construct (`\\s`, `\\w`, `\\d`, `\\b`, `.`, `[^...]`) can.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.unit.test_architecture import PRODUCT_FOLDERS, ROOT

# re functions and the position of their flags argument
_FLAGS_AT = {"compile": 1, "match": 2, "search": 2, "fullmatch": 2, "split": 3,
             "findall": 2, "finditer": 2, "sub": 4, "subn": 4}  # fmt: skip
_ASCII = {"ASCII", "A"}
_UNICODE = {"UNICODE", "U"}
_UNICODE_AWARE = re.compile(r"\\[sSwWdDbB]|(?<!\\)\.|\[\^", re.ASCII)
_DOLLAR = re.compile(r"(?<!\\)\$", re.ASCII)


def _product_modules() -> list[Path]:
    found = [ROOT / "function_app.py"]
    for folder in PRODUCT_FOLDERS:
        found += sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)
    return found


def _string_constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound to strings (or sums of strings) and the fragments they hold."""
    names: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            fragments = _fragments(value, names)
            if fragments:
                names[target.id] = fragments
    return names


def _fragments(node: ast.AST, names: dict[str, list[str]]) -> list[str]:
    """The literal text a pattern expression is built from (constants, f-string parts, sums,
    `"".join(...)`, names of module-level strings)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name):
        return names.get(node.id, [])
    if isinstance(node, ast.JoinedStr | ast.BinOp | ast.Call | ast.List | ast.Tuple):
        children = ast.iter_child_nodes(node)
        return [text for child in children for text in _fragments(child, names)]
    if isinstance(node, ast.FormattedValue):
        return _fragments(node.value, names)
    return []


def _without_escapes(text: str) -> str:
    return text.replace("\\\\", "")


def regex_problems(source: str, where: str = "<module>") -> list[str]:
    """What is wrong with the regular expressions in `source` (empty: nothing)."""
    tree = ast.parse(source)
    constants = _string_constants(tree)
    problems: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        function = node.func
        if not (isinstance(function.value, ast.Name) and function.value.id == "re"):
            continue
        if function.attr not in _FLAGS_AT:
            continue
        at = f"{where}:{node.lineno} re.{function.attr}"
        flags_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
        if flags_node is None and len(node.args) > _FLAGS_AT[function.attr]:
            flags_node = node.args[_FLAGS_AT[function.attr]]
        flags = {
            n.attr
            for n in (ast.walk(flags_node) if flags_node is not None else ())
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "re"
        }
        pattern = _fragments(node.args[0], constants) if node.args else []
        text = "".join(_without_escapes(p) for p in pattern)
        if _DOLLAR.search(text):
            problems.append(f"{at}: `$` matches before a trailing newline; use fullmatch or \\Z")
        if flags & _UNICODE:
            if not _UNICODE_AWARE.search(text):
                problems.append(f"{at}: re.UNICODE on a pattern that can only match ASCII")
        elif not flags & _ASCII:
            problems.append(f"{at}: say re.ASCII (or re.UNICODE where non-ASCII text is meant)")
    return problems


def test_no_product_regex_lets_a_trailing_newline_or_unicode_folding_through() -> None:
    problems = [
        problem
        for path in _product_modules()
        for problem in regex_problems(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import re\n_N = re.compile(r"^[a-z]+$")\n', ["`$`", "re.ASCII"]),
        ('import re\n_N = re.compile(r"[a-z]+", re.I)\n', ["re.ASCII"]),
        ('import re\nEND = "$"\n_N = re.compile("^x" + END, re.ASCII)\n', ["`$`"]),
        ('import re\nre.sub(r"\\bAND\\b", "", t, flags=re.I)\n', ["re.ASCII"]),
        ('import re\n_N = re.compile(r"[a-z]+", re.UNICODE)\n', ["can only match ASCII"]),
        ('import re\nre.fullmatch(f"{x}/(?:a|$)", s, re.ASCII)\n', ["`$`"]),
        ('import re\n_N = re.compile(r"[a-z]+\\$", re.ASCII)\n', []),  # a literal dollar
        ('import re\n_N = re.compile(r"[a-z]+\\Z", re.ASCII | re.I)\n', []),
        ('import re\n_N = re.compile(r"[^/\\s]+", re.UNICODE)\n', []),
    ],
)
def test_the_check_catches_each_trap(source: str, expected: list[str]) -> None:
    problems = regex_problems(source)
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(problems, expected, strict=True):
        assert wanted in problem
