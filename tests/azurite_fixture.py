"""A session-scoped `azurite` fixture: one Azurite table service for the whole test session.

The root conftest imports it (`from tests.azurite_fixture import azurite`); a test module can also
import it directly.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devhost.azurite import Azurite, start_azurite


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A running Azurite table service, stopped when the session ends."""
    with start_azurite() as running:
        yield running
