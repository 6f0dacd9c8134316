"""`POST /_sandbox/reset`: back to the last loaded scenario, saying what it reset and kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.summary import state_summary

if TYPE_CHECKING:
    from sandbox.core import Sandbox

_Route = Callable[["Sandbox", dict[str, str], dict[str, str], bytes], tuple[int, Any]]

RESETS = (
    "state: rebuilt from the last loaded scenario, its relative times (+30d, -2h) counted from now",
    "request log",
    "faults",
    "clock: real time again",
)
STORES_KEPT = "the app's journal and policy table (?stores=true on the local host resets them too)"
KEPT = ("the loaded scenario", "options: paging, timing, pull options", STORES_KEPT)


def _reset(sb: Sandbox, p: dict[str, str], q: dict[str, str], body: bytes) -> tuple[int, Any]:
    """The state summary plus `reset` and `kept`. The product's journal and policy table belong
    to the local host, which resets them too on `?stores=true`; the sandbox has none."""
    if "stores" in q:
        raise ValueError(
            "this sandbox holds no journal or policy table: POST /_sandbox/reset?stores=true "
            "to the local host (make run), which resets them with the sandbox"
        )
    sb.reset()
    return 200, {**state_summary(sb), "reset": list(RESETS), "kept": list(KEPT)}


RESET_ROUTES: list[tuple[str, re.Pattern[str], _Route]] = [
    ("POST", re.compile(r"^/reset$"), _reset),
]
