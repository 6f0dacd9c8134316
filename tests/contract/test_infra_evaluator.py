"""A small evaluator of parsed Bicep, so infra tests check values rather than text.

Bicep files are parsed with pycep (the parser checkov uses). `Template.evaluate` computes the
expressions the templates use (parameters, variables, loops, string interpolation, and the
functions listed in `_FUNCTIONS`) in an environment of bound names; values Azure only knows at
deployment time (identity client ids, connection strings) are supplied by the test as fakes.
Anything it does not understand raises `UnsupportedError`, so a new construct fails loudly instead of
being skipped. The tests at the bottom pin the evaluator's own behaviour.

pycep parses `a == b ? x : y` as `a == (b ? x : y)`: templates parenthesise such comparisons.
pycep renders a symbol and a string literal alike, so a string equal to a declared name (parameter,
variable, resource, module) is taken as that name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
SUBSCRIPTION = "00000000-0000-0000-0000-00000000aaaa"

__all__ = [
    "INFRA",
    "ROOT",
    "Template",
    "UnsupportedError",
    "bicep_files",
    "parse_expression",
    "template",
]


class UnsupportedError(AssertionError):
    """The evaluator met an expression it does not know; extend it rather than skip the check."""


@cache
def _parser() -> BicepParser:
    return BicepParser()


@cache
def _expression(text: str) -> Any:
    """The parse tree of one Bicep expression (the inside of a `${...}`)."""
    return _parser().parse(text=f"var x = {text}\n")["variables"]["x"]["value"]


def parse_expression(text: str) -> Any:
    """The parse tree of a Bicep expression, to compare with what a template holds."""
    return _expression(text)


def bicep_files() -> list[Path]:
    """Every .bicep file under infra/."""
    return sorted(INFRA.rglob("*.bicep"))


@cache
def template(relative: str) -> Template:
    """The parsed template at infra/<relative>."""
    path = (INFRA / relative).resolve()
    return Template(path, _parser().parse(file_path=path))


@dataclass(frozen=True)
class Instance:
    """One deployed copy of a resource or module: its body and the names bound for it."""

    body: dict[str, Any]
    env: dict[str, Any]


@dataclass(frozen=True)
class Template:
    path: Path
    doc: dict[str, Any] = field(repr=False)

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.doc.get("parameters") or {})

    @property
    def variables(self) -> dict[str, Any]:
        return dict(self.doc.get("variables") or {})

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.doc.get("resources") or {})

    @property
    def modules(self) -> dict[str, Any]:
        return dict(self.doc.get("modules") or {})

    @property
    def outputs(self) -> dict[str, Any]:
        return dict(self.doc.get("outputs") or {})

    def relative(self) -> str:
        return self.path.relative_to(INFRA).as_posix()

    def module_template(self, symbol: str) -> Template:
        """The template a local module declaration points at."""
        path = (self.path.parent / self.modules[symbol]["detail"]["path"]).resolve()
        return template(path.relative_to(INFRA).as_posix())

    def defaults(self, **overrides: Any) -> dict[str, Any]:
        """Parameter values: defaults, then `overrides`; a parameter with neither is left out."""
        env = {n: p["default"] for n, p in self.parameters.items() if "default" in p}
        env.update(overrides)
        return env

    def decorator(self, parameter: str, kind: str) -> Any:
        for item in self.parameters[parameter].get("decorators") or []:
            if item.get("type") == kind:
                return item.get("argument")
        return None

    # -- instances ----------------------------------------------------------------------------

    def instances(self, kind: str, symbol: str, env: Mapping[str, Any]) -> list[Instance]:
        """The copies of resource or module `symbol` deployed for `env` (loops and conditions)."""
        config = (self.resources if kind == "resource" else self.modules)[symbol]["config"]
        return list(self._expand(config, dict(env)))

    def _expand(self, config: dict[str, Any], env: dict[str, Any]) -> Iterator[Instance]:
        if "loop_type" in config:
            detail = config["loop_type"]["detail"]
            items = self.evaluate(detail["array_name"], env)
            for index, item in enumerate(items):
                bound = {**env, detail["item_name"]: item}
                if detail.get("index_name"):
                    bound[detail["index_name"]] = index
                yield from self._expand_body(config, bound)
        elif set(config) == {"condition", "config"}:
            yield from self._expand_body(config, env)
        else:
            yield Instance(config, env)

    def _expand_body(self, config: dict[str, Any], env: dict[str, Any]) -> Iterator[Instance]:
        condition = config.get("condition")
        if condition is None or self.evaluate(condition, env):
            yield Instance(config["config"], env)

    def module_envs(self, symbol: str, env: Mapping[str, Any]) -> list[tuple[Template, dict]]:
        """For each copy of module `symbol`: its template and its parameter values."""
        child = self.module_template(symbol)
        out = []
        for i in self.instances("module", symbol, env):
            passed = {k: _Lazy(self, v, i.env) for k, v in (i.body.get("params") or {}).items()}
            out.append((child, LazyEnv(child.defaults(**passed))))
        return out

    # -- expressions --------------------------------------------------------------------------

    def evaluate(self, node: Any, env: Mapping[str, Any]) -> Any:
        """The value of a parsed expression with `env` bound (parameters, loop items, fakes)."""
        if isinstance(node, str):
            return self._name_or_text(node, env)
        if isinstance(node, list):
            return [self.evaluate(item, env) for item in node]
        if isinstance(node, dict):
            return self._object(node, env)
        if isinstance(node, bool | int | float) or node is None:
            return node
        raise UnsupportedError(f"{self.relative()}: cannot evaluate {node!r}")

    def _object(self, node: dict[str, Any], env: Mapping[str, Any]) -> Any:
        if "loop_type" in node:
            return [self.evaluate(i.body, i.env) for i in self._expand(node, dict(env))]
        if set(node) == {"function"}:
            return self._function(node["function"], env)
        if set(node) == {"operator"}:
            return self._operator(node["operator"], env)
        return {key: self.evaluate(value, env) for key, value in node.items()}

    def _name_or_text(self, text: str, env: Mapping[str, Any]) -> Any:
        if text in env:
            value = env[text]
            return value.value() if isinstance(value, _Lazy) else value
        if text in self.variables:
            return self.evaluate(self.variables[text]["value"], env)
        if text in self.resources:
            values = [self._resource(text, i) for i in self.instances("resource", text, env)]
            return values if "loop_type" in self.resources[text]["config"] else values[0]
        if text in self.modules:
            values = [Outputs(child, e) for child, e in self.module_envs(text, env)]
            return values if "loop_type" in self.modules[text]["config"] else values[0]
        if text in self.parameters:
            raise UnsupportedError(
                f"{self.relative()}: parameter {text!r} has no value in this test"
            )
        if "${" in text:
            return self._interpolate(text, env)
        return text

    def _interpolate(self, text: str, env: Mapping[str, Any]) -> str:
        out, i = [], 0
        while (start := text.find("${", i)) >= 0:
            depth, j = 1, start + 2
            while depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            out.append(text[i:start])
            out.append(_text(self.evaluate(_expression(text[start + 2 : j - 1]), env)))
            i = j
        out.append(text[i:])
        return "".join(out)

    def _resource(self, symbol: str, instance: Instance) -> dict[str, Any]:
        """What a template can know of a resource before deployment: its type, name and id."""
        kind = self.resources[symbol]["type"]
        name = self.evaluate(instance.body.get("name"), instance.env)
        if kind == "Microsoft.Resources/resourceGroups":
            rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"
        else:
            rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-example/providers/{kind}/{name}"
        return {"type": kind, "name": name, "id": rid}

    def _operator(self, op: dict[str, Any], env: Mapping[str, Any]) -> Any:
        kind, operands = op["type"], op["operands"]
        if kind == "property_accessor":
            return _walk(
                self.evaluate(operands["operand_1"], env), operands["operand_2"], self, env
            )
        if kind == "index_accessor":
            return self.evaluate(operands["operand_1"], env)[
                self.evaluate(operands["operand_2"], env)
            ]
        if kind == "conditional":
            chosen = "true_value" if self.evaluate(operands["condition"], env) else "false_value"
            return self.evaluate(operands[chosen], env)
        if kind == "equals":
            left, right = (self.evaluate(operands[k], env) for k in ("operand_1", "operand_2"))
            return left == right
        if kind == "not":
            return not self.evaluate(operands["bool_value"], env)
        raise UnsupportedError(f"{self.relative()}: operator {kind!r}")

    def _function(self, fn: dict[str, Any], env: Mapping[str, Any]) -> Any:
        kind, params = fn["type"], fn.get("parameters") or {}
        if kind == "filter":
            lam = params["expression"]["detail"]
            return [
                item
                for item in self.evaluate(params["input_array"], env)
                if self.evaluate(lam["expression"], {**env, lam["var_1"]: item})
            ]
        if kind == "load_json_content":
            return json.loads((self.path.parent / params["file_path"]).read_text())
        if kind not in _FUNCTIONS:
            raise UnsupportedError(f"{self.relative()}: function {kind!r}")
        args = [self.evaluate(v, env) for v in params.values() if v is not None]
        return _FUNCTIONS[kind](*args)


class LazyEnv(dict[str, Any]):
    """Module parameter values, each evaluated when first read (some need deployment values)."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        return value.value() if isinstance(value, _Lazy) else value


class Outputs(Mapping[str, Any]):
    """`module.outputs`, evaluated one output at a time (others may need deployment values)."""

    def __init__(self, child: Template, env: dict[str, Any]) -> None:
        self._child, self._env = child, env

    def __getitem__(self, key: str) -> Any:
        if key != "outputs":
            raise KeyError(key)
        return {
            name: _Lazy(self._child, out["value"], self._env)
            for name, out in self._child.outputs.items()
        }

    def __iter__(self) -> Iterator[str]:
        return iter(["outputs"])

    def __len__(self) -> int:
        return 1


@dataclass(frozen=True)
class _Lazy:
    child: Template
    node: Any
    env: dict[str, Any]

    def value(self) -> Any:
        return self.child.evaluate(self.node, self.env)


def _walk(base: Any, path: Any, tpl: Template, env: Mapping[str, Any]) -> Any:
    base = base.value() if isinstance(base, _Lazy) else base
    result = _walk_path(base, path, tpl, env)
    return result.value() if isinstance(result, _Lazy) else result


def _walk_path(base: Any, path: Any, tpl: Template, env: Mapping[str, Any]) -> Any:
    """`base.path`, where path is a name or a chain of accessors (names are keys, not lookups)."""
    if isinstance(path, str):
        if not isinstance(base, Mapping) or path not in base:
            raise UnsupportedError(f"{tpl.relative()}: no {path!r} in {base!r}")
        return base[path]
    op = path.get("operator", {})
    if op.get("type") == "property_accessor":
        first = _walk(base, op["operands"]["operand_1"], tpl, env)
        return _walk(first, op["operands"]["operand_2"], tpl, env)
    if op.get("type") == "index_accessor":
        inner = _walk(base, op["operands"]["operand_1"], tpl, env)
        return inner[tpl.evaluate(op["operands"]["operand_2"], env)]
    raise UnsupportedError(f"{tpl.relative()}: property path {path!r}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"  # as ARM's string() renders booleans
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _union(*values: Any) -> Any:
    if all(isinstance(v, dict) for v in values):
        merged: dict[str, Any] = {}
        for v in values:
            merged.update(v)
        return merged
    out: list[Any] = []
    for v in values:
        out.extend(x for x in v if x not in out)
    return out


_FUNCTIONS: dict[str, Any] = {
    "join": lambda items, sep: sep.join(items),
    "split": lambda text, sep: text.split(sep),
    "replace": lambda text, old, new: text.replace(old, new),
    "empty": lambda value: len(value) == 0,
    "string": _text,
    "union": _union,
    "concat": lambda *parts: [x for part in parts for x in part],
    "last": lambda value: value[-1],
    "take": lambda value, count: value[:count],
    "trim": lambda value: value.strip(),
    "to_lower": lambda value: value.lower(),
    "unique_string": lambda *parts: "u" + hashlib.sha256(repr(parts).encode()).hexdigest()[:12],
    "guid": lambda *parts: "guid(" + ",".join(map(str, parts)) + ")",
    "environment": lambda: {
        "suffixes": {"storage": "core.windows.net"},
        "authentication": {"loginEndpoint": "https://login.microsoftonline.com/"},
    },
    "subscription": lambda: {
        "id": f"/subscriptions/{SUBSCRIPTION}",
        "subscriptionId": SUBSCRIPTION,
    },
    "tenant": lambda: {"tenantId": "00000000-0000-0000-0000-0000000000ee"},
}


# -- the evaluator's own behaviour ----------------------------------------------------------------

_SAMPLE = """
param names string = ' a, b ,,c'
param mode string = 'fix'
var list = filter(split(replace(names, ' ', ''), ','), n => !empty(n))
var upper = [for (n, i) in list: '${n}-${i}']
var joined = join(union(list, ['a', 'd']), '+')
var chosen = (mode == 'fix') ? 'yes' : 'no'
var nested = loadJsonContent('events.json').keyVault.topicType
"""


def _sample() -> Template:
    return Template(INFRA / "sample.bicep", _parser().parse(text=_SAMPLE))


def test_the_evaluator_computes_loops_lambdas_interpolation_and_functions() -> None:
    sample, env = _sample(), _sample().defaults()
    assert sample.evaluate("list", env) == ["a", "b", "c"]
    assert sample.evaluate("upper", env) == ["a-0", "b-1", "c-2"]
    assert sample.evaluate("joined", env) == "a+b+c+d"
    assert sample.evaluate("chosen", env) == "yes"
    assert sample.evaluate("chosen", {**env, "mode": "report"}) == "no"
    assert sample.evaluate("nested", env) == "Microsoft.KeyVault.vaults"


def test_the_evaluator_refuses_what_it_does_not_know() -> None:
    sample = _sample()
    with pytest.raises(UnsupportedError):
        sample.evaluate({"function": {"type": "reference", "parameters": {}}}, {})
    with pytest.raises(UnsupportedError):
        sample.evaluate("names", {})  # a parameter without a value is not silently its name


def test_every_bicep_file_parses() -> None:
    files = bicep_files()
    assert {f.relative_to(INFRA).as_posix() for f in files} >= {
        "main.bicep",
        "wiring.bicep",
    }
    for path in files:
        doc = template(path.relative_to(INFRA).as_posix()).doc
        assert doc.get("resources") or doc.get("modules"), path


def test_every_local_module_path_resolves_to_a_parsed_template() -> None:
    for path in bicep_files():
        tpl = template(path.relative_to(INFRA).as_posix())
        for symbol, module in tpl.modules.items():
            assert module["type"] == "local", (path, symbol)
            child = tpl.module_template(symbol)
            assert child.path.is_file(), (path, symbol)
            missing = {
                name
                for name, p in child.parameters.items()
                if "default" not in p and name not in _module_params(tpl.modules[symbol]["config"])
            }
            assert not missing, f"{path.name}: module {symbol} does not pass {missing}"


def _module_params(config: dict[str, Any]) -> set[str]:
    while "params" not in config and "config" in config:
        config = config["config"]
    return set(config.get("params") or {})


def test_the_role_table_holds_distinct_guids() -> None:
    roles = json.loads((INFRA / "roles.json").read_text())
    guid = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
    assert roles
    assert all(guid.match(v) for v in roles.values()), roles
    assert len(set(roles.values())) == len(roles)
