"""Route templates as the Functions host reads them, and matching a request path against them.

Supported: literal segments (case-insensitive), `{name}`, `{name:int}` and the other common
constraints, `{name?}` and `{name=default}` as optional last segments, and `{*rest}` catch-alls.
Routes are tried most specific first (literal before parameter before optional before catch-all),
as ASP.NET routing does. The Functions host does not promise that order between two routes of one
method that a path can match both (it may try them by function name), so at start-up the host
refuses an app with such a pair (`refuse_overlaps`) rather than pick one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import unquote

__all__ = [
    "RouteMatch",
    "RouteOverlapError",
    "RouteTemplate",
    "RouteTemplateError",
    "Router",
    "compile_template",
    "find_overlaps",
    "refuse_overlaps",
]

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
_PARAMETER = re.compile(r"\{([^{}]*)\}", re.ASCII)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
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
    pattern = re.compile("".join(parts) + "/?", re.IGNORECASE | re.ASCII)
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
        regex = "".join(f"(?={_CONSTRAINTS[c.lower()]}(?:/|\\Z))" for c in known[1:])
        regex += _CONSTRAINTS[known[0].lower()]
    kind = _OPTIONAL if optional or default is not None else (_CONSTRAINED if known else _PLAIN)
    return name, regex, kind, default


def _check_name(text: str, name: str) -> None:
    if not _NAME.fullmatch(name):
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


class RouteOverlapError(RouteTemplateError):
    """Two routes of one method that some request path matches both."""


# One segment as overlap checking sees it: ("literal", text), ("segment", regex) for a
# parameter or mixed segment, or ("rest", "") for a catch-all (zero or more segments).
_Segment = tuple[str, str]


def find_overlaps(
    routes: Iterable[tuple[str, tuple[str, ...] | None]],
) -> list[tuple[str, str, str]]:
    """Pairs of templates sharing a method (None: any) that one request path could match both,
    as (first, second, method). The Functions host does not promise which of two such routes it
    tries first (it may go by function name), so an app must not have any."""
    listed = [(text, _variants(text), methods) for text, methods in routes]
    found: list[tuple[str, str, str]] = []
    for index, (text, variants, methods) in enumerate(listed):
        for other_text, other_variants, other_methods in listed[index + 1 :]:
            shared = _shared_method(methods, other_methods)
            if shared is None:
                continue
            if any(_meet(a, b) for a in variants for b in other_variants):
                found.append((text, other_text, shared))
    return found


def refuse_overlaps(routes: Iterable[tuple[str, tuple[str, ...] | None]]) -> None:
    """Raise RouteOverlapError naming every pair `find_overlaps` finds."""
    pairs = find_overlaps(routes)
    if pairs:
        described = "; ".join(f"{a!r} and {b!r} ({method})" for a, b, method in pairs)
        raise RouteOverlapError(
            f"routes overlap: {described}. A request path can match both, and the Functions "
            "host may try either first; give one of each pair a path the other cannot match"
        )


def _shared_method(first: tuple[str, ...] | None, second: tuple[str, ...] | None) -> str | None:
    """A method both routes serve (None: they serve none in common)."""
    if first is None and second is None:
        return "any method"
    if first is None or second is None:
        given = first if first is not None else second or ()
        return given[0].upper() if given else None
    common = sorted({m.upper() for m in first} & {m.upper() for m in second})
    return common[0] if common else None


def _variants(text: str) -> list[list[_Segment]]:
    """The segment lists a template stands for: an optional last segment gives two."""
    compile_template(text)  # refuse bad syntax first, with its own message
    segments: list[_Segment] = []
    for raw in text.strip("/").split("/") if text.strip("/") else []:
        whole = _PARAMETER.fullmatch(raw)
        if whole is None:
            if "{" in raw:
                segments.append(("segment", _mixed_segment(text, raw, [])))
            else:
                segments.append(("literal", raw))
            continue
        _name, regex, kind, _default = _parameter(text, whole.group(1))
        if kind == _CATCH_ALL:
            segments.append(("rest", ""))
        elif kind == _OPTIONAL:
            return [segments, [*segments, ("segment", regex)]]
        else:
            segments.append(("segment", regex))
    return [segments]


def _meet(first: list[_Segment], second: list[_Segment]) -> bool:
    """Whether some path matches both segment lists."""
    for position in range(max(len(first), len(second)) + 1):
        a = first[position] if position < len(first) else None
        b = second[position] if position < len(second) else None
        if (a is not None and a[0] == "rest") or (b is not None and b[0] == "rest"):
            return True  # a catch-all takes whatever the other has left
        if a is None or b is None:
            return a is None and b is None
        if not _segments_meet(a, b):
            return False
    return True


def _segments_meet(first: _Segment, second: _Segment) -> bool:
    if first[0] == "literal" and second[0] == "literal":
        return first[1].lower() == second[1].lower()
    if first[0] == "literal":
        return re.fullmatch(second[1], first[1], re.IGNORECASE | re.ASCII) is not None
    if second[0] == "literal":
        return re.fullmatch(first[1], second[1], re.IGNORECASE | re.ASCII) is not None
    return True  # two parameters: assume some value satisfies both
