"""Route templates of the local host: parameters, constraints, optional and catch-all segments."""

from __future__ import annotations

import pytest

from devhost.routing import (
    RouteOverlapError,
    Router,
    RouteTemplateError,
    compile_template,
    find_overlaps,
    refuse_overlaps,
)


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


# --- overlaps: pairs the Functions host may route either way ----------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("audit/{id}", "audit/latest"),
        ("policies/{id}", "policies/export"),
        ("items/{id:int}", "items/7"),
        ("items/{id}", "ITEMS/new"),
        ("a/{x}/c", "a/b/{y}"),  # /a/b/c matches both
        ("a/{x}", "a/{y}"),
        ("files/{*rest}", "files/a/b"),
        ("files/{*rest}", "files"),
        ("{*any}", "health"),
        ("items/{id?}", "items"),
        ("items/{page=1}", "items/{id}"),
        ("docs/{name}.md", "docs/readme.md"),
    ],
)
def test_routes_one_path_can_match_both_overlap(first: str, second: str) -> None:
    assert find_overlaps([(first, ("GET",)), (second, ("GET", "POST"))]) == [(first, second, "GET")]
    assert find_overlaps([(second, None), (first, ("get",))]) == [(second, first, "GET")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("audit/reports/{id}", "audit/latest"),
        ("audit/{id}", "audits/latest"),
        ("items/{id:int}", "items/new"),
        ("a/{x}/c", "a/b/d"),
        ("items/{id}", "items"),
        ("items/{id}/{label?}", "items"),
        ("docs/{name}.md", "docs/readme.txt"),
        ("credential-sets/{registry}/{name}/sync", "credential-sets/{registry}/{name}/access"),
    ],
)
def test_routes_no_path_can_match_both_do_not_overlap(first: str, second: str) -> None:
    assert find_overlaps([(first, ("GET",)), (second, ("GET",))]) == []


def test_routes_of_different_methods_do_not_overlap() -> None:
    # The host's method constraint sends a POST past a GET-only route, whatever the order.
    assert find_overlaps([("policies/{id}", ("GET", "PUT")), ("policies/import", ("POST",))]) == []


def test_overlaps_are_refused_with_both_routes_named() -> None:
    with pytest.raises(RouteOverlapError, match=r"'audit/\{id\}' and 'audit/latest' \(GET\)"):
        refuse_overlaps([("audit/{id}", ("GET",)), ("audit/latest", ("GET",)), ("audit", None)])
    refuse_overlaps([("audit/reports/{id}", ("GET",)), ("audit/latest", ("GET",))])
