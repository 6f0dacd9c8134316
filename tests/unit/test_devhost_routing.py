"""Route templates of the local host: parameters, constraints, optional and catch-all segments."""

from __future__ import annotations

import pytest

from devhost.routing import Router, RouteTemplateError, compile_template


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("health", "/health", {}),
        ("health", "/HEALTH/", {}),
        ("items/{id}", "/items/abc", {"id": "abc"}),
        ("items/{id:int}", "/items/42", {"id": "42"}),
        ("items/{id:int}", "/items/-7", {"id": "-7"}),
        ("items/{id:guid}", "/items/0f8fad5b-d9cb-469f-a165-70867728950e",
         {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}),
        ("items/{id?}", "/items", {}),
        ("items/{id?}", "/items/9", {"id": "9"}),
        ("items/{page=1}", "/items", {"page": "1"}),
        ("items/{page=1}", "/items/3", {"page": "3"}),
        ("files/{*rest}", "/files/a/b/c.txt", {"rest": "a/b/c.txt"}),
        ("files/{*rest}", "/files", {}),
        ("names/{name}", "/names/hello%20world", {"name": "hello world"}),
        ("docs/{name}.{ext}", "/docs/readme.md", {"name": "readme", "ext": "md"}),
        ("", "/", {}),
        ("", "", {}),
    ],
)  # fmt: skip
def test_templates_match_and_extract_values(
    template: str, path: str, expected: dict[str, str]
) -> None:
    assert compile_template(template).match(path) == expected


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("health", "/healthz"),
        ("items/{id:int}", "/items/abc"),
        ("items/{id:int}", "/items/4.5"),
        ("items/{id}", "/items"),
        ("items/{id}", "/items/1/2"),
        ("items/{id:alpha}", "/items/a1"),
        ("items/{flag:bool}", "/items/yes"),
    ],
)
def test_templates_refuse_other_paths(template: str, path: str) -> None:
    assert compile_template(template).match(path) is None


@pytest.mark.parametrize(
    "template",
    ["items/{id", "items/{id}}", "a/{*rest}/b", "a/{id?}/b", "a//b", "a/{x}/{x}", "a/{1x}"],
)
def test_bad_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        compile_template(template)


def _router() -> Router[str]:
    return Router(
        [
            ("items/{id}", ("GET", "DELETE"), "by-id"),
            ("items/new", ("GET",), "new"),
            ("items/{id:int}", ("PUT",), "put-int"),
            ("{*any}", ("GET",), "fallback"),
        ]
    )


def test_literal_segments_win_over_parameters() -> None:
    found = _router().match("GET", "/items/new")
    assert found is not None
    assert found.target == "new"


def test_parameters_win_over_catch_all() -> None:
    found = _router().match("GET", "/items/7")
    assert found is not None
    assert (found.target, found.route_params) == ("by-id", {"id": "7"})


def test_method_picks_among_matching_routes() -> None:
    found = _router().match("put", "/items/7")
    assert found is not None
    assert found.target == "put-int"


def test_path_match_without_method_lists_allowed_methods() -> None:
    found = _router().match("POST", "/items/7")
    assert found is not None
    assert found.target is None
    assert set(found.allowed) == {"GET", "DELETE", "PUT"}


def test_no_route_means_none() -> None:
    assert Router([("health", ("GET",), "h")]).match("GET", "/other") is None


def test_methods_none_accepts_any_method() -> None:
    found = Router([("health", None, "h")]).match("PATCH", "/health")
    assert found is not None
    assert found.target == "h"
