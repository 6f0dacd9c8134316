"""Record what happened to one planned action: the one place outcomes of applied actions are made."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shared.domain.plans import Action, Outcome, OutcomeStatus
from shared.services.context import Context

__all__ = ["record_action"]

log = logging.getLogger(__name__)


def record_action(
    ctx: Context,
    action: Action,
    signal_id: str,
    *,
    error: Exception | None = None,
    resource: str | None = None,
    reason: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    health: str | None = None,
) -> Outcome:
    """Journal the outcome of `action` (failed when `error` is given) and return it."""
    status = OutcomeStatus.FAILED if error is not None else OutcomeStatus.SUCCEEDED
    text = f"{action.reason}; failed: {error}" if error is not None else (reason or action.reason)
    outcome = Outcome(
        signal_id, resource or action.resource, status, text, ctx.clock.now(), action.kind,
        dict(before or {}), dict(after or {}), None if error is not None else health,
    )  # fmt: skip
    ctx.journal.record_outcome(outcome)
    log.info("%s %s: %s", action.kind.value, outcome.resource, status.value)
    return outcome
