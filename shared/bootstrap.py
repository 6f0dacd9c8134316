"""Wires the product once per worker: settings now, SDK-backed adapters lazily on first use.

Tests and the local host call `configure(...)` to supply settings or ready-made ports instead of
monkeypatching; `reset()` forgets everything.
"""

from __future__ import annotations

import threading

from shared.settings import Settings, load_settings

__all__ = ["configure", "reset", "settings"]

_lock = threading.Lock()
_settings: Settings | None = None


def settings() -> Settings:
    """The validated settings of this worker (read from the environment on first use)."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def configure(*, settings: Settings | None = None) -> None:
    """Use these settings instead of the environment's (tests, local host)."""
    global _settings
    with _lock:
        _settings = settings


def reset() -> None:
    """Forget cached settings and adapters; the next call re-reads the environment."""
    configure(settings=None)
