"""The Context the CLI's commands run on: `shared.bootstrap`'s, with sandbox mode wired here.

In sandbox mode (CACHEKEEPER_MODE=sandbox) the commands talk to the embedded sandbox, with the
scenario's policy rows seeded into an empty policy table; a Context a test configured is kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import bootstrap

if TYPE_CHECKING:
    from shared.services.context import Context

__all__ = ["context"]


def context() -> Context:
    """The configured Context (the sandbox's in sandbox mode, Azure's otherwise)."""
    if bootstrap.settings().mode == "sandbox":
        from sandbox.wiring import wire_sandbox_mode  # only sandbox mode loads the emulation

        wire_sandbox_mode()
    return bootstrap.context()
