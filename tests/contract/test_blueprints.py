"""Triggers are grouped into blueprints by the one rule in `functions/__init__.py`: every route
under a family's first path segments is in that family's module, and the app registers exactly
the blueprints of the table."""

from __future__ import annotations

from collections import defaultdict

import functions
from tests.function_index import indexed_functions


def _module_of(name: str) -> str:
    module = indexed_functions()[name].get_user_function().__module__
    assert module.startswith("functions."), (name, module)
    return module.removeprefix("functions.")


def test_every_route_is_in_the_module_of_its_first_path_segment() -> None:
    family_of = {
        segment: module for module, segments in functions.BLUEPRINTS.items() for segment in segments
    }
    for name, function in indexed_functions().items():
        binding = function.get_trigger().get_dict_repr()
        if binding["type"] == "httpTrigger":
            segment = binding["route"].split("/")[0]
            assert family_of.get(segment) == _module_of(name), (name, binding["route"])


def test_each_first_path_segment_has_one_family_and_every_family_serves_its_segments() -> None:
    segments = [s for listed in functions.BLUEPRINTS.values() for s in listed]
    assert len(segments) == len(set(segments))
    served: dict[str, set[str]] = defaultdict(set)
    for name, function in indexed_functions().items():
        binding = function.get_trigger().get_dict_repr()
        if binding["type"] == "httpTrigger":
            served[_module_of(name)].add(binding["route"].split("/")[0])
    for module, listed in functions.BLUEPRINTS.items():
        assert served.get(module, set()) == set(listed), module


def test_the_app_registers_exactly_the_blueprints_of_the_table() -> None:
    modules = {_module_of(name) for name in indexed_functions()}
    assert modules == set(functions.BLUEPRINTS)
