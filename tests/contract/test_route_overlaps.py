"""No route of the app can be reached through another route of the same method.

The Functions host does not promise an order between two HTTP routes that one request path can
match both (upstream reports say it tries them by function name), so a literal route such as
`audit/latest` next to a parameter route such as `audit/{id}` would answer from either. The app
must have no such pair; the local host refuses them at start-up with the same check.
"""

from __future__ import annotations

import re
from itertools import permutations

from devhost.routing import compile_template, find_overlaps
from tests.function_index import indexed_functions

_PARAMETER = re.compile(r"\{[^{}]*\}")


def _http_routes() -> list[tuple[str, tuple[str, ...]]]:
    routes = []
    for function in indexed_functions().values():
        binding = function.get_trigger().get_dict_repr()
        if binding["type"] == "httpTrigger":
            methods = tuple(str(getattr(m, "value", m)).upper() for m in binding["methods"])
            routes.append((str(binding["route"]), methods))
    return sorted(routes)


def _example_path(template: str) -> str:
    """A path `template` serves, each parameter filled with a value every constraint accepts."""
    return "/" + _PARAMETER.sub("1", template.strip("/"))


def test_every_http_function_declares_its_methods() -> None:
    assert all(methods for _route, methods in _http_routes())


def test_no_two_routes_of_one_method_can_match_the_same_path() -> None:
    assert find_overlaps(_http_routes()) == []


def test_no_route_matches_an_example_path_of_another_route_of_its_method() -> None:
    # The same property seen from the paths: fill one route's parameters, try the others on it.
    clashes = [
        (route, other)
        for (route, methods), (other, other_methods) in permutations(_http_routes(), 2)
        if set(methods) & set(other_methods)
        and compile_template(route).match(_example_path(other)) is not None
    ]
    assert clashes == []


def test_the_check_would_catch_the_pairs_the_api_used_to_have() -> None:
    former = [("audit/{id}", ("GET",)), ("audit/latest", ("GET",))]
    former += [("policies/{id}", ("GET", "PUT", "DELETE")), ("policies/export", ("GET",))]
    assert find_overlaps(former) == [
        ("audit/{id}", "audit/latest", "GET"),
        ("policies/{id}", "policies/export", "GET"),
    ]
    assert compile_template("audit/{id}").match(_example_path("audit/latest")) is not None
