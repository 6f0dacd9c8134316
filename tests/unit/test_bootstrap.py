"""shared.bootstrap: a configured Context wins, and sandbox mode is never built here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import bootstrap
from shared.errors import ConfigurationError
from shared.settings import Settings
from tests.fakes import CONTOSO, make_world


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    bootstrap.reset()
    yield
    bootstrap.reset()


def test_sandbox_mode_without_a_configured_context_is_refused_not_sent_to_azure() -> None:
    bootstrap.configure(
        settings=Settings.from_env(
            {"CACHEKEEPER_MODE": "sandbox", "MANAGED_REGISTRIES": str(CONTOSO)}
        )
    )
    with pytest.raises(ConfigurationError, match="sandbox mode is wired by the local host") as err:
        bootstrap.context()
    assert err.value.setting == "CACHEKEEPER_MODE"
    assert "CLI" in err.value.message and "tests" in err.value.message
    assert not bootstrap.has_context()


def test_a_configured_context_is_the_one_used() -> None:
    world = make_world()  # sandbox-mode settings over in-memory fakes
    assert not bootstrap.has_context()
    bootstrap.configure(context=world.ctx)
    assert bootstrap.has_context()
    assert bootstrap.context() is world.ctx
    assert bootstrap.settings() is world.ctx.settings
    bootstrap.reset()
    assert not bootstrap.has_context()
