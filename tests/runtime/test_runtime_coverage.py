"""Every function the worker indexed was invoked through it by this tier (run last: see
conftest's `pytest_collection_modifyitems`)."""

from __future__ import annotations

import pytest

from tests.runtime.host import FunctionsHost


def test_every_indexed_function_was_invoked_through_the_runtime(
    host: FunctionsHost, request: pytest.FixtureRequest
) -> None:
    modules = {item.module.__name__ for item in request.session.items if item.module}
    if not {"tests.runtime.test_runtime_scenarios"} <= modules:
        pytest.skip("counts invocations of the whole tier; the scenarios were not selected")
    invoked = {name for name, _ in host.invocations}
    assert sorted(set(host.functions) - invoked) == []
    assert len(host.functions) == len(invoked)
