"""Test session setup: the settings the app needs to import, and shared fixtures."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = Path(__file__).resolve().parent / "events"


def _example_settings() -> dict[str, str]:
    values: dict[str, str] = json.loads((ROOT / "local.settings.example.json").read_text())[
        "Values"
    ]
    return values


# function_app validates settings at import (a bad setting stops start-up), so tests that import
# it need a valid environment: the same one the local run uses.
for _name, _value in _example_settings().items():
    os.environ.setdefault(_name, _value)


# The real-runtime tier runs on Python 3.13, in its own venv and pytest run (`make runtime-test`,
# part of `make test`); the rest of the suite runs on 3.11 and leaves it to that run.
collect_ignore = ["runtime"] if sys.version_info < (3, 13) else []


def load_event(name: str) -> object:
    """A JSON fixture from tests/events/."""
    return json.loads((EVENTS / name).read_text())


# One Azurite table service for the whole session, shared by every test that asks for it.
from tests.azurite_fixture import azurite  # noqa: E402, F401

# After every sandbox-backed test: no secret value was served (the safety rules in docs/architecture.md).
from tests.security_fixtures import no_secret_value_is_ever_served  # noqa: E402, F401
