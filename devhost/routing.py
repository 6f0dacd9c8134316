"""Route templates as the Functions host reads them, and matching a request path against them.

Supported: literal segments (case-insensitive), `{name}`, `{name:int}` and the other common
constraints, `{name?}` and `{name=default}` as optional last segments, and `{*rest}` catch-alls.
Routes are tried most specific first (literal before parameter before optional before catch-all),
as ASP.NET routing does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

__all__ = ["RouteMatch", "RouteTemplate", "RouteTemplateError", "Router", "compile_template"]

T = TypeVar("T")

_CONSTRAINTS = {
    "int": r"-?[0-9]+",
    "long": r"-?[0-9]+",
    "bool": r"(?:true|false)",
    "guid": r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}",
    "alpha": r"[A-Za-z]+",
    "double": r"-?[0-9]+(?:\.[0-9]+)?",
    "float": r"-?[0-9]+(?:\.[0-9]+)?",
    "decimal": r"-?[0-9]+(?:\.[0-9]+)?",
}
_ANY_SEGMENT = r"[^/]+"
_PARAMETER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Specificity ranks, lower wins.
_LITERAL, _MIXED, _CONSTRAINED, _PLAIN, _OPTIONAL, _CATCH_ALL = range(6)


class RouteTemplateError(ValueError):
    """A route template the host cannot serve."""


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    """A compiled template: its regex, its parameter names (by group order) and its rank."""

    text: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    defaults: dict[str, str]
    rank: tuple[int, ...]

    def match(self, path: str) -> dict[str, str] | None:
        """Route values for `path` (relative to the prefix, e.g. `/items/5`), or None."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        values = dict(self.defaults)
        for name, value in zip(self.names, found.groups(), strict=True):
            if value is not None and value != "":
                values[name] = unquote(value)
        return values


def compile_template(text: str) -> RouteTemplate:
    """Compile a route template; raise RouteTemplateError on syntax the host would refuse."""
    segments = text.strip("/").split("/") if text.strip("/") else []
    parts: list[str] = []
    names: list[str] = []
    defaults: dict[str, str] = {}
    rank: list[int] = []
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if not segment:
            raise RouteTemplateError(f"route {text!r} has an empty segment")
        whole = _PARAMETER.fullmatch(segment)
        if whole is not None:
            name, regex, kind, default = _parameter(text, whole.group(1))
            if kind in (_OPTIONAL, _CATCH_ALL) and not last:
                raise RouteTemplateError(f"route {text!r}: {segment} must be the last segment")
            names.append(name)
            if default is not None:
                defaults[name] = default
            if kind == _CATCH_ALL:
                parts.append(r"(?:/(.*))?")
            elif kind == _OPTIONAL:
                parts.append(rf"(?:/({regex}))?")
            else:
                parts.append(rf"/({regex})")
            rank.append(kind)
            continue
        parts.append("/" + _mixed_segment(text, segment, names))
        rank.append(_MIXED if "{" in segment else _LITERAL)
    if len(set(names)) != len(names):
        raise RouteTemplateError(f"route {text!r} uses a parameter name twice")
    pattern = re.compile("".join(parts) + "/?", re.IGNORECASE)
    return RouteTemplate(text, pattern, tuple(names), defaults, tuple(rank))


def _mixed_segment(text: str, segment: str, names: list[str]) -> str:
    regex = []
    position = 0
    for found in _PARAMETER.finditer(segment):
        regex.append(re.escape(segment[position : found.start()]))
        name, constraint, kind, _default = _parameter(text, found.group(1))
        if kind not in (_PLAIN, _CONSTRAINED):
            raise RouteTemplateError(f"route {text!r}: {found.group(0)} must be a whole segment")
        names.append(name)
        regex.append(f"({constraint.replace('+', '+?', 1) if kind == _PLAIN else constraint})")
        position = found.end()
    tail = segment[position:]
    if "{" in tail or "}" in tail:
        raise RouteTemplateError(f"route {text!r} has an unbalanced brace")
    regex.append(re.escape(tail))
    return "".join(regex)


def _parameter(text: str, inner: str) -> tuple[str, str, int, str | None]:
    """Name, value regex, rank and default of the parameter written as `{inner}`."""
    if inner.startswith("*"):
        name = inner.lstrip("*")
        _check_name(text, name)
        return name, ".*", _CATCH_ALL, None
    default: str | None = None
    if "=" in inner:
        inner, default = inner.split("=", 1)
    optional = inner.endswith("?")
    inner = inner.removesuffix("?")
    name, *constraints = inner.split(":")
    _check_name(text, name)
    regex = _ANY_SEGMENT
    known = [c for c in constraints if c.lower() in _CONSTRAINTS]
    if known:
        # Several constraints must all hold: one lookahead each, then consume the segment.
        regex = "".join(f"(?={_CONSTRAINTS[c.lower()]}(?:/|$))" for c in known[1:])
        regex += _CONSTRAINTS[known[0].lower()]
    kind = _OPTIONAL if optional or default is not None else (_CONSTRAINED if known else _PLAIN)
    return name, regex, kind, default


def _check_name(text: str, name: str) -> None:
    if not _NAME.match(name):
        raise RouteTemplateError(f"route {text!r} has an invalid parameter name {name!r}")


@dataclass(frozen=True, slots=True)
class RouteMatch(Generic[T]):
    """The outcome of routing one request."""

    target: T | None  # None: the path matched but not the method
    route_params: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()


class Router(Generic[T]):
    """Routes (template, methods, target) most specific first; methods None means any."""

    def __init__(self, routes: Iterable[tuple[str, tuple[str, ...] | None, T]]) -> None:
        compiled = [(compile_template(text), methods, target) for text, methods, target in routes]
        self._routes = sorted(compiled, key=lambda route: route[0].rank)

    def match(self, method: str, path: str) -> RouteMatch[T] | None:
        """The route for `method` and `path`; a target-less match lists the allowed methods."""
        allowed: list[str] = []
        for template, methods, target in self._routes:
            values = template.match(path)
            if values is None:
                continue
            if methods is None or method.upper() in methods:
                return RouteMatch(target, values)
            allowed.extend(m for m in methods if m not in allowed)
        if allowed:
            return RouteMatch(None, allowed=tuple(allowed))
        return None
