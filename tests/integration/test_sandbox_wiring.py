"""sandbox/wiring.py: the Context sandbox mode runs on, as the local host and the CLI wire it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from sandbox.embedded import set_sandbox
from sandbox.wiring import wire_sandbox_mode
from shared import bootstrap
from shared.adapters.memory import MemoryJournal, MemoryPolicyStore, MemoryReportStore
from tests.fakes import make_world
from tests.integration.app_context import demo_settings


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    bootstrap.reset()
    yield
    bootstrap.reset()
    set_sandbox(None)


def test_sandbox_mode_runs_on_the_process_sandbox_with_the_scenarios_policies(
    sandbox: Sandbox,
) -> None:
    set_sandbox(sandbox)  # what the local host serves at /_sandbox
    bootstrap.configure(settings=demo_settings())  # no STORAGE_CONNECTION: in-memory stores
    wire_sandbox_mode()
    ctx = bootstrap.context()
    assert ctx.clock is sandbox.clock
    assert isinstance(ctx.policies, MemoryPolicyStore)
    assert isinstance(ctx.journal, MemoryJournal)
    assert isinstance(ctx.reports, MemoryReportStore)
    assert {p.policy.id for p in ctx.policies.list_policies()} == {
        p["id"] for p in sandbox.scenario.policies
    }
    before = len(sandbox.log.all())
    assert [c.name for c in ctx.registry.list_credential_sets(ctx.managed_registry("contosocache"))]
    assert len(sandbox.log.all()) > before  # the SDK clients reached this sandbox


def test_a_context_configured_already_is_kept() -> None:
    world = make_world()
    bootstrap.configure(context=world.ctx)
    wire_sandbox_mode()
    assert bootstrap.context() is world.ctx


def test_azure_mode_is_not_wired_to_a_sandbox() -> None:
    bootstrap.configure(
        settings=demo_settings(
            CACHEKEEPER_MODE="azure", STORAGE_CONNECTION="UseDevelopmentStorage=true"
        )
    )
    with pytest.raises(ValueError, match="CACHEKEEPER_MODE=sandbox"):
        wire_sandbox_mode()
    assert not bootstrap.has_context()
