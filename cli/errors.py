"""What the CLI's commands raise besides the product's own errors (shared/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CommandFailedError", "PlanStaleError"]


class CommandFailedError(Exception):
    """The command could not be done (bad input, refused, unreachable): exit status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PlanStaleError(Exception):
    """The state moved since the plan was made; `plan` is the current plan (JSON)."""

    def __init__(self, message: str, plan: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.plan = dict(plan)
