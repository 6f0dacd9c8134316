"""The Context the CLI's in-process commands run on: `shared.bootstrap`'s (Azure's, from the
settings), or the one a test configured.

Sandbox mode never builds an emulated Azure of its own here: an in-process sandbox would be
rebuilt by every invocation (and its relative scenario times with it), so a plan could never be
applied by the next command. cli/backends.py sends sandbox-mode commands to the local host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared import bootstrap

if TYPE_CHECKING:
    from shared.services.context import Context

__all__ = ["context"]


def context() -> Context:
    """The configured Context."""
    return bootstrap.context()
