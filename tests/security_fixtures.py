"""Session-wide security checks, imported by tests/conftest.py.

After every test that uses the `sandbox` fixture, the sandbox must not have served a single secret
value: cachekeeper reads version metadata only (the safety rules in docs/architecture.md). The sandbox's own tests
(`test_sandbox_*.py`) read values on purpose to test the emulation, so they are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

__all__ = ["no_secret_value_is_ever_served"]


@pytest.fixture(autouse=True)
def no_secret_value_is_ever_served(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test (in teardown) if the product made the sandbox hand out a secret value."""
    module = request.node.module.__name__.rsplit(".", 1)[-1] if request.node.module else ""
    if "sandbox" not in request.fixturenames or module.startswith("test_sandbox_"):
        yield
        return
    sandbox = request.getfixturevalue("sandbox")
    yield
    served = [r for r in sandbox.log.all() if r.secret_value_served]
    assert sandbox.secret_values_served == 0 and served == [], (
        f"a secret value was served: {[(r.method, r.path) for r in served]}"
    )
