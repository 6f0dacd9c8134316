"""The real-runtime tier: the app under the real Python worker (`azure_functions_runtime`), driven
by `tests/runtime/host.py` over the host <-> worker protobuf messages, against the embedded
sandbox (sandbox mode wired as devhost and the CLI wire it). It runs on Python 3.13 in its own
venv: `make runtime-test` (part of `make test`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if sys.version_info < (3, 13):
    raise pytest.UsageError(
        "tests/runtime runs on Python 3.13 (azure-functions-runtime): use `make runtime-test`"
    )

import os

from tests.conftest import _example_settings
from tests.runtime.rpc_codegen import generate

# The worker reads its settings from the environment, as in Azure: exactly the example settings
# (sandbox mode, stores in memory without STORAGE_CONNECTION), whatever the developer's shell has.
for _name in ("STORAGE_CONNECTION", "AZURE_CLIENT_ID", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
    os.environ.pop(_name, None)
os.environ.update(_example_settings())
# as infra/app/api.bicep sets it: the worker attaches the host's trace context to each invocation
os.environ["PYTHON_ENABLE_OPENTELEMETRY"] = "true"

generate()  # before anything imports tests.runtime._rpc

if TYPE_CHECKING:
    from sandbox.core import Sandbox
    from tests.runtime.host import FunctionsHost


@pytest.fixture(scope="session")
def host() -> Iterator[FunctionsHost]:
    """One worker for the session: it indexes the app once, as in Azure."""
    from sandbox.wiring import wire_sandbox_mode
    from tests.runtime.host import FunctionsHost

    started = FunctionsHost()
    started.start()
    wire_sandbox_mode()  # what devhost and the CLI do once the settings are loaded
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(autouse=True)
def no_secret_value_is_served(host: FunctionsHost) -> Iterator[None]:
    """The product reads version metadata only: the sandbox must never serve a secret value."""
    from sandbox.embedded import get_sandbox

    yield
    served = [(r.method, r.path) for r in get_sandbox().log.all() if r.secret_value_served]
    assert get_sandbox().secret_values_served == 0 and served == [], served


@pytest.fixture
def sandbox(host: FunctionsHost) -> Sandbox:
    """The process-wide sandbox the worker's functions reach (its request log cleared)."""
    from sandbox.embedded import get_sandbox

    current = get_sandbox()
    current.log.clear()
    return current


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The invocation census runs after every scenario."""
    last = "test_every_indexed_function_was_invoked_through_the_runtime"
    census = [i for i in items if i.name == last]
    items[:] = [i for i in items if i not in census] + census
