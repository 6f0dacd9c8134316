"""Every error the admin API answers is problem+json: outside `functions/_problems.py` no trigger
module builds an `HttpResponse` with an error status (or a status it computes), and
`json_response`, the helper for JSON bodies, refuses error statuses at run time."""

from __future__ import annotations

import ast

import pytest

from functions._http import json_response
from functions._problems import problem
from tests.unit.test_architecture import ROOT

ALLOWED = {"functions/_problems.py", "functions/_http.py"}  # problem(), and json_response's guard


def _error_responses(source: str, where: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "HttpResponse":
            continue
        status = next((k.value for k in node.keywords if k.arg == "status_code"), None)
        if status is None:
            continue  # 200
        if not (isinstance(status, ast.Constant) and isinstance(status.value, int)):
            found.append(f"{where}:{node.lineno}: a computed status (use json_response or problem)")
        elif status.value >= 400:
            found.append(f"{where}:{node.lineno}: status {status.value} outside problem+json")
    return found


def test_no_trigger_module_answers_an_error_outside_problem_json() -> None:
    problems = [
        problem_text
        for path in sorted((ROOT / "functions").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in ALLOWED
        for problem_text in _error_responses(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert problems == [], "\n".join(problems)


def test_the_check_sees_an_error_status_and_a_computed_one() -> None:
    source = "func.HttpResponse('x', status_code=422)\nfunc.HttpResponse('x', status_code=s)\n"
    assert len(_error_responses(source, "m.py")) == 2
    assert _error_responses("func.HttpResponse(status_code=204)\n", "m.py") == []


@pytest.mark.parametrize("status", [400, 403, 422, 500])
def test_json_response_refuses_an_error_and_problem_a_success(status: int) -> None:
    with pytest.raises(ValueError, match="problem"):
        json_response({"reason": "x"}, status_code=status)
    with pytest.raises(ValueError, match="not an error"):
        problem(200 + status % 100, title="x", detail="y")
    answer = problem(status, title="T", detail="d", code="C", members={"status": "ignored", "x": 1})
    assert answer.mimetype == "application/problem+json"
    assert answer.get_body().decode().count('"status": ' + str(status)) == 1  # members never win
